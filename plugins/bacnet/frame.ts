// The two headers before every APDU on BACnet/IP: the BVLC (ASHRAE 135, Annex J.2: type 0x81, a
// function, the datagram's length) and the NPDU's network control information (clause 6.2: version
// 1, a control octet, and addresses when the message crossed or will cross a router).

export const BVLC_TYPE_BIP: u8 = 0x81;
export const BVLC_FORWARDED_NPDU: u8 = 0x04;
export const BVLC_ORIGINAL_UNICAST: u8 = 0x0a;
export const BVLC_ORIGINAL_BROADCAST: u8 = 0x0b;
const NPDU_VERSION: u8 = 0x01;
// Control octet bits (6.2.2).
const NPDU_NETWORK_MESSAGE: u8 = 0x80;
const NPDU_DNET: u8 = 0x20;
const NPDU_SNET: u8 = 0x08;
export const NPDU_EXPECTING_REPLY: u8 = 0x04;

/** Header bytes this decoder writes before a request's APDU: BVLC 4, NPDU 2 (no routing). */
export const REQUEST_HEADER: i32 = 6;
/** The largest BACnet/IP datagram: a 1497-octet NPDU (Annex J) in a Forwarded-NPDU's 10-octet BVLC. */
export const MAX_DATAGRAM: i32 = 1507;

/** Writes BVLC Original-Unicast-NPDU and an NPDU with no addresses before an APDU of `apduLength` bytes. */
export function putRequestHeader(p: usize, apduLength: i32, control: u8): void {
  const total = REQUEST_HEADER + apduLength;
  store<u8>(p, BVLC_TYPE_BIP);
  store<u8>(p, BVLC_ORIGINAL_UNICAST, 1);
  store<u8>(p, <u8>(total >> 8), 2);
  store<u8>(p, <u8>total, 3);
  store<u8>(p, NPDU_VERSION, 4);
  store<u8>(p, control, 5);
}

/** Where the APDU starts in a datagram of `n` bytes at `p`; one of the negative FRAME_ values when there is none. */
export function apduOffset(p: usize, n: i32): i32 {
  if (n < 4 || load<u8>(p) != BVLC_TYPE_BIP) return FRAME_NOT_BIP;
  const length = (<i32>load<u8>(p, 2) << 8) | <i32>load<u8>(p, 3);
  if (length != n) return FRAME_NOT_BIP;
  const fn = load<u8>(p, 1);
  let at = 4;
  // A BBMD's Forwarded-NPDU carries the original sender's B/IP address (6 octets) first.
  if (fn == BVLC_FORWARDED_NPDU) at = 10;
  else if (fn != BVLC_ORIGINAL_UNICAST && fn != BVLC_ORIGINAL_BROADCAST) return FRAME_NOT_NPDU;
  if (at + 2 > n || load<u8>(p + <usize>at) != NPDU_VERSION) return FRAME_NOT_BIP;
  const control = load<u8>(p + <usize>at + 1);
  at += 2;
  if ((control & NPDU_DNET) != 0) {
    if (at + 3 > n) return FRAME_NOT_BIP;
    at += 3 + <i32>load<u8>(p + <usize>at + 2); // DNET, DLEN, DADR
  }
  if ((control & NPDU_SNET) != 0) {
    if (at + 3 > n) return FRAME_NOT_BIP;
    at += 3 + <i32>load<u8>(p + <usize>at + 2); // SNET, SLEN, SADR
  }
  if ((control & NPDU_DNET) != 0) at += 1; // hop count
  if ((control & NPDU_NETWORK_MESSAGE) != 0) return FRAME_NOT_NPDU;
  return at < n ? at : FRAME_NOT_BIP;
}

/** Not a BACnet/IP datagram at all, or one whose headers do not add up. */
export const FRAME_NOT_BIP: i32 = -1;
/** A BVLC or network layer message (a BBMD's table, a router's announcement): no APDU for us. */
export const FRAME_NOT_NPDU: i32 = -2;
