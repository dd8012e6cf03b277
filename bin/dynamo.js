#!/usr/bin/env node
// Development launcher (`npm link`, `npx dynamo`): runs the TypeScript sources under node with tsx.
// Users run the compiled single binary, dist/dynamo (`npm run build`).
import {register} from 'tsx/esm/api';

register();
await import('../src/main.ts');
