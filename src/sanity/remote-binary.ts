/**
 * Which dynamo `dynamo sanity` runs on an SSH host: the one `dynamo up` would run there. A host with
 * `dynamoPath` runs that; any other gets this very build at `~/.dynamo/bin/dynamo-<hash>`, shipped
 * by the code `up` ships with (supervisor/ship.ts: probe over the shared SSH connection, copy only
 * when missing, refuse another CPU architecture or too little disk), so the host is judged by the
 * same checks, of the same version, as the machine asking.
 */
import type {SshHost} from '../config/schema.js';
import {UserError} from '../shared/errors.js';
import {isCompiledBinary} from '../shared/self.js';
import {binaryIdOf, shipBinary, shippedPath} from '../supervisor/ship.js';

/** Puts this build on the host if it is not there, and says where it is (relative to the remote home). Throws what shipping throws. */
export type ShipThisBuild = (hostName: string, ssh: SshHost, controlDir: string) => Promise<string>;

export const shipThisBuild: ShipThisBuild = async (hostName, ssh, controlDir) => {
  // Under node there is no single file to copy: what `up` says too.
  if (!isCompiledBinary()) {
    throw new UserError('only the compiled dynamo binary can be copied to SSH hosts', `run dist/dynamo (npm run build), or set hosts.${hostName}.dynamoPath to a dynamo on that host`);
  }
  const id = await binaryIdOf(process.execPath);
  await shipBinary(hostName, ssh, controlDir, {path: process.execPath, id});
  return shippedPath(id);
};

/** The dynamo to run on the host: its dynamoPath, else this build, shipped there first. */
export async function dynamoOn(hostName: string, ssh: SshHost, controlDir: string, ship: ShipThisBuild = shipThisBuild): Promise<string> {
  return ssh.dynamoPath ?? ship(hostName, ssh, controlDir);
}
