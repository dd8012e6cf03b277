import {describe, expect, it} from 'vitest';
import {child, children, parseXml, XmlError} from './xml.js';

describe('parseXml', () => {
  it('reads elements, attributes and text past the prolog, DOCTYPE and comments', () => {
    const root = parseXml(`<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<!-- a comment with <tags> -->
<nvidia_smi_log>
  <driver_version>550.54.15</driver_version>
  <gpu id="00000000:18:00.0"><product_name>NVIDIA H100 80GB HBM3</product_name></gpu>
  <gpu id='00000000:2A:00.0'/>
</nvidia_smi_log>`);
    expect(root.name).toBe('nvidia_smi_log');
    expect(child(root, 'driver_version')?.text).toBe('550.54.15');
    expect(children(root, 'gpu').map((g) => g.attrs.id)).toEqual(['00000000:18:00.0', '00000000:2A:00.0']);
    expect(child(root, 'gpu/product_name')?.text).toBe('NVIDIA H100 80GB HBM3');
    expect(children(root, 'gpu')[1]!.children).toEqual([]);
  });

  it('skips a DOCTYPE whose internal subset holds ">" and decodes entities and CDATA', () => {
    const root = parseXml('<!DOCTYPE x [<!ENTITY e "a>b">]><x a="&quot;q&quot;">1 &lt; 2 &amp;&#x41;&#66;<![CDATA[<raw>]]></x>');
    expect(root.attrs.a).toBe('"q"');
    expect(root.text).toBe('1 < 2 &AB<raw>');
  });

  it('keeps only an element’s own text, trimmed', () => {
    const root = parseXml('<a>\n  before <b>inner</b> after\n</a>');
    expect(root.text).toBe('before  after');
    expect(child(root, 'b')?.text).toBe('inner');
  });

  it.each([
    ['a truncated document', '<nvidia_smi_log><gpu><uuid>GPU-1</uuid>', 'the document ends inside <gpu>'],
    ['a truncated tag', '<nvidia_smi_log><gpu id="0', 'the document ends inside a tag'],
    ['a mismatched closing tag', '<a><b></a>', '</a> closes <b>'],
    ['no element at all', '<?xml version="1.0"?>\n', 'no root element'],
    ['empty input', '', 'no root element'],
    ['two roots', '<a/><b/>', 'a second root element <b>'],
    ['an unterminated comment', '<a><!-- no end', 'the document ends inside a comment'],
  ])('refuses %s', (_, xml, message) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
    expect(() => parseXml(xml)).toThrow(message);
  });
});
