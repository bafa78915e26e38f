// A minimal ZIP writer: "stored" entries (no compression: PNG and WebP are compressed already), CRC-32,
// UTF-8 names. Written here rather than taken from a library so the page has no third-party code.
// Limits (no ZIP64): under 65,535 entries and 4 GiB in all; past them it throws instead of writing a
// broken archive.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as ZIP uses) of a Uint8Array, as an unsigned 32-bit number. */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** MS-DOS time and date words of a Date (2-second resolution, years 1980-2107). */
function dosDateTime(date) {
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  const time = (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1);
  const day = ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  return { time, day };
}

function localHeader(entry) {
  const view = new DataView(new ArrayBuffer(30));
  view.setUint32(0, 0x04034b50, true); // local file header signature
  writeCommon(view, 4, entry);
  const out = new Uint8Array(30 + entry.name.length);
  out.set(new Uint8Array(view.buffer), 0);
  out.set(entry.name, 30);
  return out;
}

// The fields shared by the local and the central header, from "version needed" to "extra length".
function writeCommon(view, at, entry) {
  view.setUint16(at, 20, true); // version needed: 2.0
  view.setUint16(at + 2, 0x0800, true); // flag bit 11: the name is UTF-8
  view.setUint16(at + 4, 0, true); // method 0: stored
  view.setUint16(at + 6, entry.time, true);
  view.setUint16(at + 8, entry.day, true);
  view.setUint32(at + 10, entry.crc, true);
  view.setUint32(at + 14, entry.size, true); // compressed size = size when stored
  view.setUint32(at + 18, entry.size, true);
  view.setUint16(at + 22, entry.name.length, true);
  view.setUint16(at + 24, 0, true); // extra field length
}

function centralHeader(entry) {
  const view = new DataView(new ArrayBuffer(46));
  view.setUint32(0, 0x02014b50, true); // central directory header signature
  view.setUint16(4, 20, true); // version made by
  writeCommon(view, 6, entry);
  // comment length, disk number, internal and external attributes stay 0
  view.setUint32(42, entry.offset, true);
  const out = new Uint8Array(46 + entry.name.length);
  out.set(new Uint8Array(view.buffer), 0);
  out.set(entry.name, 46);
  return out;
}

function endRecord(count, dirSize, dirOffset) {
  const view = new DataView(new ArrayBuffer(22));
  view.setUint32(0, 0x06054b50, true); // end of central directory signature
  view.setUint16(8, count, true); // entries on this disk
  view.setUint16(10, count, true); // entries in all
  view.setUint32(12, dirSize, true);
  view.setUint32(16, dirOffset, true);
  return new Uint8Array(view.buffer);
}

/**
 * Build a ZIP archive.
 * @param {{name: string, data: Uint8Array, date?: Date}[]} files entries in order; names must be unique.
 * @returns {Blob} an application/zip Blob.
 */
export function makeZip(files) {
  if (files.length >= 0xffff) {
    throw new Error(`a ZIP without ZIP64 holds fewer than 65535 files, not ${files.length}`);
  }
  const encoder = new TextEncoder();
  const parts = [];
  const entries = [];
  let offset = 0;
  for (const file of files) {
    const entry = { name: encoder.encode(file.name), crc: crc32(file.data), size: file.data.length, offset };
    Object.assign(entry, dosDateTime(file.date || new Date()));
    const header = localHeader(entry);
    parts.push(header, file.data);
    entries.push(entry);
    offset += header.length + file.data.length;
    if (offset > 0xffffffff) throw new Error("the ZIP would pass 4 GiB (ZIP64 is not supported)");
  }
  const central = entries.map(centralHeader);
  const dirSize = central.reduce((sum, part) => sum + part.length, 0);
  parts.push(...central, endRecord(entries.length, dirSize, offset));
  return new Blob(parts, { type: "application/zip" });
}
