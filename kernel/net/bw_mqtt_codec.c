/*
 * MQTT 3.1.1 encoders and the incremental server-packet decoder
 * (bw_mqtt_codec.h). Encoders compute the remaining length first and write
 * nothing usable unless the whole packet fits. The decoder reads the fixed
 * header one byte at a time (type, then up to four length bytes) and then
 * exactly the body, so it never holds bytes of the next packet; every field
 * is checked before a packet is handed out.
 */
#include "bw_mqtt_codec.h"

#include <string.h>

#define MQTT_STRING_MAX 65535u
#define REMAINING_MAX 268435455u         /* four length bytes */

enum { STAGE_TYPE, STAGE_LENGTH, STAGE_BODY, STAGE_FAILED };

/* ---- strings ---- */

bool bw_mqtt_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t extra;
        if (c == 0) {
            return false;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07u;
        } else {
            return false;   /* continuation byte first, C0/C1 overlong lead, or > U+10FFFF */
        }
        if (len - i <= extra) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u) {
                return false;
            }
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        static const uint32_t min_for_extra[4] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min_for_extra[extra] || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) {
            return false;
        }
        i += 1 + extra;
    }
    return true;
}

bool bw_mqtt_topic_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > MQTT_STRING_MAX || !bw_mqtt_utf8_valid((const uint8_t *)s, len)) {
        return false;
    }
    return memchr(s, '+', len) == NULL && memchr(s, '#', len) == NULL;
}

bool bw_mqtt_topic_filter_valid(const char *s, size_t len)
{
    if (len == 0 || len > MQTT_STRING_MAX || !bw_mqtt_utf8_valid((const uint8_t *)s, len)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == len || s[i + 1] == '/';
        if (s[i] == '+' && !(level_start && level_end)) {
            return false;
        }
        if (s[i] == '#' && !(level_start && i + 1 == len)) {
            return false;
        }
    }
    return true;
}

/* ---- encoding ---- */

typedef struct writer {
    uint8_t *out;
    size_t pos;
} writer;

static void put8(writer *w, uint8_t v)
{
    w->out[w->pos++] = v;
}

static void put16(writer *w, uint16_t v)
{
    put8(w, (uint8_t)(v >> 8));
    put8(w, (uint8_t)v);
}

static void put_bytes(writer *w, const void *p, size_t n)
{
    if (n > 0) {
        memcpy(w->out + w->pos, p, n);
        w->pos += n;
    }
}

static void put_string(writer *w, const void *p, size_t n)
{
    put16(w, (uint16_t)n);
    put_bytes(w, p, n);
}

static size_t length_bytes(size_t remaining)
{
    return remaining < 128u ? 1u : remaining < 16384u ? 2u : remaining < 2097152u ? 3u : 4u;
}

/* Checks that a packet with this body length fits out[size] and writes its
 * fixed header; the caller then writes exactly `remaining` body bytes. */
static bw_err begin_packet(writer *w, uint8_t first, size_t remaining, uint8_t *out, size_t size,
                           size_t *len)
{
    if (remaining > REMAINING_MAX || 1u + length_bytes(remaining) + remaining > size) {
        return BW_E_SIZE;
    }
    w->out = out;
    w->pos = 0;
    put8(w, first);
    do {
        uint8_t b = (uint8_t)(remaining & 0x7Fu);
        remaining >>= 7;
        put8(w, remaining > 0 ? (uint8_t)(b | 0x80u) : b);
    } while (remaining > 0);
    *len = w->pos;
    return BW_OK;
}

static bool string_ok(const char *s, size_t len)
{
    return len <= MQTT_STRING_MAX && (len == 0 || s != NULL) &&
           bw_mqtt_utf8_valid((const uint8_t *)s, len);
}

bw_err bw_mqtt_encode_connect(const bw_mqtt_connect_opts *o, uint8_t *out, size_t size,
                              size_t *len)
{
    bool will = o->will_topic != NULL;
    bool user = o->user_name != NULL;
    if (!string_ok(o->client_id, o->client_id_len) ||
        (user && !string_ok(o->user_name, o->user_name_len)) ||
        (will && (!bw_mqtt_topic_name_valid(o->will_topic, o->will_topic_len) ||
                  o->will_len > MQTT_STRING_MAX || o->will_qos > 1 ||
                  (o->will_len > 0 && o->will_payload == NULL)))) {
        return BW_E_INVALID;
    }
    /* MQTT 3.1.1 §3.1.3.1: a zero-length client id requires a clean session. */
    if (o->client_id_len == 0 && !o->clean_session) {
        return BW_E_INVALID;
    }
    size_t remaining = 10u + 2u + o->client_id_len;
    if (will) {
        remaining += 2u + o->will_topic_len + 2u + o->will_len;
    }
    if (user) {
        remaining += 2u + o->user_name_len;
    }
    writer w;
    bw_err err = begin_packet(&w, BW_MQTT_CONNECT << 4, remaining, out, size, len);
    if (err != BW_OK) {
        return err;
    }
    uint8_t flags = (uint8_t)((user ? 0x80u : 0u) | (o->clean_session ? 0x02u : 0u));
    if (will) {
        flags |= (uint8_t)(0x04u | o->will_qos << 3 | (o->will_retain ? 0x20u : 0u));
    }
    put_string(&w, "MQTT", 4);
    put8(&w, 4);                    /* protocol level 3.1.1 */
    put8(&w, flags);
    put16(&w, o->keepalive_s);
    put_string(&w, o->client_id, o->client_id_len);
    if (will) {
        put_string(&w, o->will_topic, o->will_topic_len);
        put_string(&w, o->will_payload, o->will_len);
    }
    if (user) {
        put_string(&w, o->user_name, o->user_name_len);
    }
    *len = w.pos;
    return BW_OK;
}

bw_err bw_mqtt_encode_publish(const char *topic, size_t topic_len, const uint8_t *payload,
                              size_t payload_len, uint8_t qos, bool dup, bool retain,
                              uint16_t packet_id, uint8_t *out, size_t size, size_t *len)
{
    if (qos > 1 || (qos == 1 && packet_id == 0) || (dup && qos == 0) ||
        !bw_mqtt_topic_name_valid(topic, topic_len) || (payload_len > 0 && payload == NULL)) {
        return BW_E_INVALID;
    }
    size_t remaining = 2u + topic_len + (qos ? 2u : 0u) + payload_len;
    if (remaining < payload_len) {
        return BW_E_SIZE;           /* size_t overflow */
    }
    uint8_t first = (uint8_t)(BW_MQTT_PUBLISH << 4 | (dup ? 0x08u : 0u) | qos << 1 |
                              (retain ? 0x01u : 0u));
    writer w;
    bw_err err = begin_packet(&w, first, remaining, out, size, len);
    if (err != BW_OK) {
        return err;
    }
    put_string(&w, topic, topic_len);
    if (qos) {
        put16(&w, packet_id);
    }
    put_bytes(&w, payload, payload_len);
    *len = w.pos;
    return BW_OK;
}

static bw_err encode_id_only(uint8_t first, uint16_t packet_id, uint8_t *out, size_t size,
                             size_t *len)
{
    if (packet_id == 0) {
        return BW_E_INVALID;
    }
    writer w;
    bw_err err = begin_packet(&w, first, 2, out, size, len);
    if (err == BW_OK) {
        put16(&w, packet_id);
        *len = w.pos;
    }
    return err;
}

bw_err bw_mqtt_encode_puback(uint16_t packet_id, uint8_t *out, size_t size, size_t *len)
{
    return encode_id_only(BW_MQTT_PUBACK << 4, packet_id, out, size, len);
}

/* SUBSCRIBE (qos != NULL) and UNSUBSCRIBE (qos == NULL) share their layout:
 * packet id, then each filter with a requested-QoS byte for SUBSCRIBE. */
static bw_err encode_filters(uint8_t first, uint16_t packet_id, const char *const *filters,
                             const size_t *lengths, const uint8_t *qos, size_t count,
                             uint8_t *out, size_t size, size_t *len)
{
    if (packet_id == 0 || count == 0) {
        return BW_E_INVALID;
    }
    size_t remaining = 2;
    for (size_t i = 0; i < count; i++) {
        if (!bw_mqtt_topic_filter_valid(filters[i], lengths[i]) || (qos && qos[i] > 1)) {
            return BW_E_INVALID;
        }
        remaining += 2u + lengths[i] + (qos ? 1u : 0u);
        if (remaining > REMAINING_MAX) {
            return BW_E_SIZE;
        }
    }
    writer w;
    bw_err err = begin_packet(&w, first, remaining, out, size, len);
    if (err != BW_OK) {
        return err;
    }
    put16(&w, packet_id);
    for (size_t i = 0; i < count; i++) {
        put_string(&w, filters[i], lengths[i]);
        if (qos) {
            put8(&w, qos[i]);
        }
    }
    *len = w.pos;
    return BW_OK;
}

bw_err bw_mqtt_encode_subscribe(uint16_t packet_id, const char *const *filters,
                                const size_t *lengths, const uint8_t *qos, size_t count,
                                uint8_t *out, size_t size, size_t *len)
{
    if (qos == NULL) {
        return BW_E_INVALID;
    }
    /* Fixed-header flags 0010 are required for SUBSCRIBE and UNSUBSCRIBE. */
    return encode_filters(BW_MQTT_SUBSCRIBE << 4 | 0x02u, packet_id, filters, lengths, qos,
                          count, out, size, len);
}

bw_err bw_mqtt_encode_unsubscribe(uint16_t packet_id, const char *const *filters,
                                  const size_t *lengths, size_t count, uint8_t *out,
                                  size_t size, size_t *len)
{
    return encode_filters(BW_MQTT_UNSUBSCRIBE << 4 | 0x02u, packet_id, filters, lengths, NULL,
                          count, out, size, len);
}

static bw_err encode_empty(uint8_t first, uint8_t *out, size_t size, size_t *len)
{
    writer w;
    return begin_packet(&w, first, 0, out, size, len);
}

bw_err bw_mqtt_encode_pingreq(uint8_t *out, size_t size, size_t *len)
{
    return encode_empty(BW_MQTT_PINGREQ << 4, out, size, len);
}

bw_err bw_mqtt_encode_disconnect(uint8_t *out, size_t size, size_t *len)
{
    return encode_empty(BW_MQTT_DISCONNECT << 4, out, size, len);
}

/* ---- decoding ---- */

void bw_mqtt_decoder_init(bw_mqtt_decoder *d)
{
    d->first = 0;
    d->stage = STAGE_TYPE;
    d->length_bytes = 0;
    d->remaining = 0;
    d->fill = 0;
    d->error = BW_MQTT_E_NONE;
}

bw_mqtt_error bw_mqtt_decoder_error(const bw_mqtt_decoder *d)
{
    return d->error;
}

uint8_t *bw_mqtt_decoder_space(bw_mqtt_decoder *d, size_t *want)
{
    switch (d->stage) {
    case STAGE_TYPE:
        *want = 1;
        return &d->first;
    case STAGE_LENGTH:
        *want = 1;
        return &d->body[0];     /* the body is still empty: a scratch byte */
    case STAGE_BODY:
        *want = d->remaining - d->fill;
        return &d->body[d->fill];
    default:
        *want = 0;
        return d->body;
    }
}

static bw_mqtt_decode_status fail(bw_mqtt_decoder *d, bw_mqtt_error error)
{
    d->error = error;
    d->stage = STAGE_FAILED;
    return BW_MQTT_DECODE_ERROR;
}

/* The first byte: a type a server may send us, with the flags it requires. */
static bw_mqtt_error check_first(uint8_t first)
{
    uint8_t flags = first & 0x0Fu;
    switch (first >> 4) {
    case BW_MQTT_CONNACK:
    case BW_MQTT_PUBACK:
    case BW_MQTT_SUBACK:
    case BW_MQTT_UNSUBACK:
    case BW_MQTT_PINGRESP:
        return flags == 0 ? BW_MQTT_E_NONE : BW_MQTT_E_FLAGS;
    case BW_MQTT_PUBLISH: {
        uint8_t qos = (flags >> 1) & 3u;
        if (qos > 1) {
            return BW_MQTT_E_QOS;
        }
        return (qos == 0 && (flags & 0x08u)) ? BW_MQTT_E_FLAGS : BW_MQTT_E_NONE;
    }
    default:
        return BW_MQTT_E_TYPE;
    }
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static bw_mqtt_error parse_publish(const bw_mqtt_decoder *d, bw_mqtt_packet *p)
{
    size_t n = d->remaining;
    p->qos = (d->first >> 1) & 1u;
    p->dup = (d->first & 0x08u) != 0;
    p->retain = (d->first & 0x01u) != 0;
    if (n < 2) {
        return BW_MQTT_E_SIZE;
    }
    size_t topic_len = get16(d->body);
    size_t header = 2u + topic_len + (p->qos ? 2u : 0u);
    if (header > n) {
        return BW_MQTT_E_SIZE;
    }
    const uint8_t *topic = d->body + 2;
    if (!bw_mqtt_utf8_valid(topic, topic_len)) {
        return BW_MQTT_E_UTF8;
    }
    if (!bw_mqtt_topic_name_valid((const char *)topic, topic_len)) {
        return BW_MQTT_E_TOPIC;
    }
    if (p->qos) {
        p->packet_id = get16(topic + topic_len);
        if (p->packet_id == 0) {
            return BW_MQTT_E_PACKET_ID;
        }
    }
    p->topic = topic;
    p->topic_len = (uint16_t)topic_len;
    p->payload = d->body + header;
    p->payload_len = n - header;
    return BW_MQTT_E_NONE;
}

static bw_mqtt_error parse_body(const bw_mqtt_decoder *d, bw_mqtt_packet *p)
{
    const uint8_t *b = d->body;
    size_t n = d->remaining;
    switch (p->type) {
    case BW_MQTT_CONNACK:
        if (n != 2) {
            return BW_MQTT_E_SIZE;
        }
        p->session_present = (b[0] & 1u) != 0;
        p->connack_code = b[1];
        /* §3.2.2.1: bits 7-1 reserved; §3.2.2.3: codes 6-255 reserved; a
         * refusal has session present 0. */
        if ((b[0] & 0xFEu) != 0 || b[1] > BW_MQTT_CONNACK_NOT_AUTHORIZED ||
            (b[1] != 0 && p->session_present)) {
            return BW_MQTT_E_CONNACK;
        }
        return BW_MQTT_E_NONE;
    case BW_MQTT_PUBLISH:
        return parse_publish(d, p);
    case BW_MQTT_PUBACK:
    case BW_MQTT_UNSUBACK:
        if (n != 2) {
            return BW_MQTT_E_SIZE;
        }
        p->packet_id = get16(b);
        return p->packet_id ? BW_MQTT_E_NONE : BW_MQTT_E_PACKET_ID;
    case BW_MQTT_SUBACK:
        if (n < 3) {
            return BW_MQTT_E_SIZE;
        }
        p->packet_id = get16(b);
        if (p->packet_id == 0) {
            return BW_MQTT_E_PACKET_ID;
        }
        for (size_t i = 2; i < n; i++) {
            if (b[i] > 2 && b[i] != BW_MQTT_SUBACK_FAILURE) {
                return BW_MQTT_E_SUBACK;
            }
        }
        p->codes = b + 2;
        p->code_count = n - 2;
        return BW_MQTT_E_NONE;
    default: /* PINGRESP: check_first let nothing else through */
        return n == 0 ? BW_MQTT_E_NONE : BW_MQTT_E_SIZE;
    }
}

static bw_mqtt_decode_status complete(bw_mqtt_decoder *d, bw_mqtt_packet *packet)
{
    memset(packet, 0, sizeof *packet);
    packet->type = (bw_mqtt_type)(d->first >> 4);
    bw_mqtt_error error = parse_body(d, packet);
    if (error != BW_MQTT_E_NONE) {
        return fail(d, error);
    }
    d->stage = STAGE_TYPE;
    d->length_bytes = 0;
    d->fill = 0;
    return BW_MQTT_DECODE_PACKET;
}

bw_mqtt_decode_status bw_mqtt_decoder_commit(bw_mqtt_decoder *d, size_t n,
                                             bw_mqtt_packet *packet)
{
    if (n == 0 || d->stage == STAGE_FAILED) {
        return d->stage == STAGE_FAILED ? BW_MQTT_DECODE_ERROR : BW_MQTT_DECODE_MORE;
    }
    switch (d->stage) {
    case STAGE_TYPE: {
        bw_mqtt_error error = check_first(d->first);
        if (error != BW_MQTT_E_NONE) {
            return fail(d, error);
        }
        d->stage = STAGE_LENGTH;
        d->remaining = 0;
        d->length_bytes = 0;
        return BW_MQTT_DECODE_MORE;
    }
    case STAGE_LENGTH: {
        uint8_t b = d->body[0];
        d->remaining |= (uint32_t)(b & 0x7Fu) << (7u * d->length_bytes);
        d->length_bytes++;
        if (d->remaining > BW_MQTT_RX_MAX) {
            return fail(d, BW_MQTT_E_TOO_BIG);
        }
        if (b & 0x80u) {
            return d->length_bytes == 4 ? fail(d, BW_MQTT_E_LENGTH_ENCODING)
                                        : BW_MQTT_DECODE_MORE;
        }
        d->stage = STAGE_BODY;
        d->fill = 0;
        return d->remaining == 0 ? complete(d, packet) : BW_MQTT_DECODE_MORE;
    }
    default: /* STAGE_BODY */
        d->fill += (uint32_t)(n < d->remaining - d->fill ? n : d->remaining - d->fill);
        return d->fill == d->remaining ? complete(d, packet) : BW_MQTT_DECODE_MORE;
    }
}

bw_mqtt_decode_status bw_mqtt_decoder_feed(bw_mqtt_decoder *d, const uint8_t *data, size_t len,
                                           size_t *used, bw_mqtt_packet *packet)
{
    size_t taken = 0;
    bw_mqtt_decode_status status = d->stage == STAGE_FAILED ? BW_MQTT_DECODE_ERROR
                                                            : BW_MQTT_DECODE_MORE;
    while (status == BW_MQTT_DECODE_MORE && taken < len) {
        size_t want;
        uint8_t *space = bw_mqtt_decoder_space(d, &want);
        size_t n = len - taken < want ? len - taken : want;
        memcpy(space, data + taken, n);
        taken += n;
        status = bw_mqtt_decoder_commit(d, n, packet);
    }
    *used = taken;
    return status;
}

const char *bw_mqtt_error_text(bw_mqtt_error error)
{
    static const char *const text[BW_MQTT_E_COUNT] = {
        [BW_MQTT_E_NONE] = "no error",
        [BW_MQTT_E_TYPE] = "packet type not expected from a server",
        [BW_MQTT_E_FLAGS] = "bad fixed-header flags",
        [BW_MQTT_E_QOS] = "PUBLISH with QoS 2 or 3",
        [BW_MQTT_E_LENGTH_ENCODING] = "remaining length longer than 4 bytes",
        [BW_MQTT_E_TOO_BIG] = "packet larger than the receive buffer",
        [BW_MQTT_E_SIZE] = "remaining length wrong for the packet",
        [BW_MQTT_E_UTF8] = "topic not valid UTF-8",
        [BW_MQTT_E_TOPIC] = "topic empty or with a wildcard",
        [BW_MQTT_E_PACKET_ID] = "packet identifier 0",
        [BW_MQTT_E_CONNACK] = "malformed CONNACK",
        [BW_MQTT_E_SUBACK] = "bad SUBACK return code",
        [BW_MQTT_E_UNEXPECTED] = "packet not expected now",
    };
    return (unsigned)error < BW_MQTT_E_COUNT ? text[error] : "unknown error";
}

const char *bw_mqtt_connack_text(uint8_t code)
{
    static const char *const text[] = {
        "accepted",
        "refused: protocol version",
        "refused: client identifier",
        "refused: server unavailable",
        "refused: bad user name or password",
        "refused: not authorized",
    };
    return code < sizeof text / sizeof text[0] ? text[code] : "refused: reserved code";
}
