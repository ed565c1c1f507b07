// Every text this plugin logs, as the lines of one string (printed with lineEntry). Each string
// literal costs the module some 30 bytes before its first character, and the plugin must stay within
// 8 KB, so the fragments of all messages live here, named by the constants below, in order.
export const MESSAGES = "\
[\n\
] '\n\
': \n\
 \n\
device \n\
 request \n\
: \n\
, expected \n\
; problems: \n\
out of range\n\
unknown: \n\
missing\n\
must be bool for function 1/2\n\
not for function 1/2\n\
not for this type\n\
exceeds max_registers\n\
runs past 65535\n\
more than 65535 requests\n\
request not in plan: \n\
request not as planned, length \n\
short response, length \n\
transaction id \n\
protocol id \n\
MBAP length \n\
unit id \n\
function code \n\
byte count \n\
PDU length \n\
exception code ";

// Punctuation of "<list>[<i>] '<name>': <setting> <reason>".
export const M_OPEN = 0;
export const M_CLOSE_NAMED = 1;
export const M_NAME_END = 2;
export const M_SPACE = 3;
// Punctuation of "device <name> request <r>: <problem><got>, expected <want>; problems: <n>".
export const M_DEVICE = 4;
export const M_REQUEST = 5;
export const M_COLON = 6;
export const M_EXPECTED = 7;
export const M_MORE = 8;
// Why configure refuses a setting.
export const M_OUT_OF_RANGE = 9;
export const M_UNKNOWN = 10;
export const M_MISSING = 11;
export const M_BITS_ARE_BOOL = 12;
export const M_NOT_FOR_BITS = 13;
export const M_NOT_FOR_TYPE = 14;
export const M_TOO_LARGE = 15;
export const M_PAST_END = 16;
export const M_TOO_MANY_REQUESTS = 17;
// What is wrong with a frame; a number follows each.
export const M_NOT_IN_PLAN = 18;
export const M_NOT_AS_PLANNED = 19;
export const M_TOO_SHORT = 20;
export const M_TRANSACTION = 21;
export const M_PROTOCOL = 22;
export const M_MBAP_LENGTH = 23;
export const M_UNIT = 24;
export const M_FUNCTION = 25;
export const M_BYTE_COUNT = 26;
export const M_PDU_LENGTH = 27;
export const M_EXCEPTION = 28;
