/*
 * The local delivery link's framing (docs/SPEC.md §9): SLIP-style frames on
 * a byte stream (a UART), each carrying a type, the protocol version, a
 * sequence number, a length-checked payload and a CRC-32.
 *
 * The decoder takes one byte at a time into a fixed buffer of the largest
 * legal frame (no heap, no pointer kept to caller data). Its invariant: fill
 * bytes of the current frame are in buf, unescaped; once a frame grows past
 * BW_LINK_FRAME_MAX, or an escape is malformed, the rest of it is discarded
 * up to the next END and reported as one error. Every received byte is
 * untrusted: a frame is handed out only when its CRC matches, its length
 * field equals the bytes actually received and its version is ours. Errors
 * come out as values, never asserts, and the decoder is ready for the next
 * frame right after one.
 */
#ifndef BW_LINK_H
#define BW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- wire constants (docs/SPEC.md §9) ---- */

#define BW_LINK_VERSION        1u
#define BW_LINK_END            0xC0u   /* frame delimiter */
#define BW_LINK_ESC            0xDBu   /* escape: ESC ESC_END = 0xC0, ESC ESC_ESC = 0xDB */
#define BW_LINK_ESC_END        0xDCu
#define BW_LINK_ESC_ESC        0xDDu

#define BW_LINK_HEADER_SIZE    6u      /* type, version, seq (2), payload length (2) */
#define BW_LINK_CRC_SIZE       4u
#define BW_LINK_DATA_MAX       512u    /* bundle bytes in one HEAD or DATA frame */
#define BW_LINK_PAYLOAD_MAX    (4u + BW_LINK_DATA_MAX)
#define BW_LINK_FRAME_MAX      (BW_LINK_HEADER_SIZE + BW_LINK_PAYLOAD_MAX + BW_LINK_CRC_SIZE)
/* Worst case on the wire: both delimiters, every body byte escaped. */
#define BW_LINK_ENCODED_MAX    (2u + 2u * BW_LINK_FRAME_MAX)
#define BW_LINK_SEQ_NONE       0xFFFFu /* NACK of a frame whose sequence number is unknown */
#define BW_LINK_REASON_MAX     200u    /* bytes of reason text in a NACK */

/* Frame types. Requests (host -> device) below 0x80, answers (device -> host) from 0x80. */
typedef enum bw_link_type {
    BW_LINK_HELLO = 0x01,    /* (empty) -> STATUS */
    BW_LINK_HEAD = 0x02,     /* u32 head offset, bytes: the bundle head, in order from 0 */
    BW_LINK_BEGIN = 0x03,    /* u32 head length: check the head, start or resume */
    BW_LINK_DATA = 0x04,     /* u32 bundle file offset, 1..512 bytes */
    BW_LINK_FINISH = 0x05,   /* (empty): verify the received bundle */
    BW_LINK_INSTALL = 0x06,  /* (empty): install the verified bundle, restart the app */
    /* provisioning (docs/SPEC.md §12) */
    BW_LINK_CSR_READ = 0x07,     /* u32 offset (0: build a fresh request) -> CHUNK */
    BW_LINK_PROV_DATA = 0x08,    /* u8 item, 3 x 0, u32 offset, 1..508 bytes -> ACK(bytes held) */
    BW_LINK_PROV_COMMIT = 0x09,  /* (empty): check and store the draft -> ACK(record sequence) */
    BW_LINK_DEBUG = 0x0A,        /* one app debug monitor request (SPEC §20) -> DEBUG_ANSWER */
    BW_LINK_KEYS = 0x0B,         /* a key set (SPEC §12.4) -> ACK(key-set sequence held) */
    BW_LINK_ACK = 0x80,      /* u32 value, u8 engine op, 3 reserved */
    BW_LINK_STATUS = 0x81,   /* BW_LINK_STATUS_SIZE bytes, see docs/SPEC.md */
    BW_LINK_NACK = 0x82,     /* u8 code, u8 engine error, u8 manifest error, u8 0, u32 value, text */
    BW_LINK_CHUNK = 0x83,    /* u32 total length, up to BW_LINK_DATA_MAX bytes from the offset asked */
    BW_LINK_DEBUG_ANSWER = 0x84, /* the monitor's answer (SPEC §20) */
} bw_link_type;

#define BW_LINK_ACK_SIZE       8u
#define BW_LINK_NACK_FIXED     8u
#define BW_LINK_STATUS_SIZE    64u
#define BW_LINK_PROV_FIXED     8u      /* PROV_DATA: item, 3 reserved, u32 offset */
#define BW_LINK_CHUNK_FIXED    4u      /* CHUNK: u32 total length */
/* STATUS flags (byte 2) */
#define BW_LINK_STATUS_TRIAL          0x01u
#define BW_LINK_STATUS_SESSION        0x02u
#define BW_LINK_STATUS_UPDATES        0x04u
#define BW_LINK_STATUS_KEY_READY      0x08u   /* the device has its key pair */
#define BW_LINK_STATUS_PROVISIONED    0x10u   /* it holds a certificate, CA and broker */
#define BW_LINK_STATUS_KERNEL_TRIAL   0x20u   /* the running kernel is on trial (SPEC §19.5) */

/* Why a NACK was sent (its first payload byte). */
typedef enum bw_link_nack_code {
    BW_LINK_NACK_FRAME = 1,       /* the frame itself was bad (see the text) */
    BW_LINK_NACK_TYPE = 2,        /* unknown request type */
    BW_LINK_NACK_PAYLOAD = 3,     /* payload length wrong for the request type */
    BW_LINK_NACK_HEAD = 4,        /* HEAD/BEGIN out of order or too long; value = head bytes held */
    BW_LINK_NACK_ENGINE = 5,      /* the update engine refused; value = expected file offset */
    BW_LINK_NACK_INSTALL = 6,     /* the install did not happen; the old app keeps running */
    BW_LINK_NACK_PROVISION = 7,   /* provisioning refused (the text says why); nothing stored */
} bw_link_nack_code;

/* What ended a bad frame. */
typedef enum bw_link_error {
    BW_LINK_E_NONE = 0,
    BW_LINK_E_SHORT,        /* fewer bytes than a header and a CRC */
    BW_LINK_E_TOO_LONG,     /* more than BW_LINK_FRAME_MAX bytes before the END */
    BW_LINK_E_ESCAPE,       /* ESC followed by something other than ESC_END/ESC_ESC */
    BW_LINK_E_CRC,          /* the CRC does not match */
    BW_LINK_E_LENGTH,       /* the length field disagrees with the bytes received */
    BW_LINK_E_VERSION,      /* another protocol version */
    BW_LINK_E_COUNT
} bw_link_error;

/* A decoded frame; payload points into the decoder's buffer and is valid
 * until the next byte is fed. */
typedef struct bw_link_frame {
    uint8_t type;
    uint16_t seq;
    uint16_t len;
    uint32_t crc;            /* the frame's CRC: with type and seq, names a frame */
    const uint8_t *payload;
} bw_link_frame;

typedef enum bw_link_event {
    BW_LINK_EVENT_NONE,     /* byte taken, no frame ended */
    BW_LINK_EVENT_FRAME,    /* a valid frame ended: *frame */
    BW_LINK_EVENT_ERROR,    /* a bad frame ended and was dropped: *error */
} bw_link_event;

typedef struct bw_link_decoder {
    uint8_t buf[BW_LINK_FRAME_MAX];
    uint32_t fill;          /* unescaped bytes of the current frame in buf */
    bool escaped;           /* the last byte was ESC */
    bool discarding;        /* too long or bad escape: drop up to the next END */
    bw_link_error pending;  /* the error reported at that END */
} bw_link_decoder;

/* Resets the decoder to "between frames". */
void bw_link_decoder_init(bw_link_decoder *d);

/* Feeds one received byte. Returns FRAME when it completed a valid frame
 * (*frame filled), ERROR when it completed a bad one (*error filled), else
 * NONE. Empty frames (END END) are ignored. Never fails otherwise. */
bw_link_event bw_link_decode_byte(bw_link_decoder *d, uint8_t byte, bw_link_frame *frame,
                                  bw_link_error *error);

/* Encodes one frame into out[size]: END, the escaped header + payload + CRC,
 * END. Returns the bytes written, or 0 (nothing usable written) when len >
 * BW_LINK_PAYLOAD_MAX or out is too small (BW_LINK_ENCODED_MAX always fits). */
size_t bw_link_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t size);

/* Short fixed text for a frame error, e.g. "bad CRC". */
const char *bw_link_error_text(bw_link_error error);

#endif
