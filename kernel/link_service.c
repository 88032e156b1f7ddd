/*
 * Local delivery over the modem link (link_service.h; protocol: docs/SPEC.md §9).
 *
 * State, all static (no heap):
 *  - the frame decoder;
 *  - (in the engine, bw_update_head_put: one buffer shared with cloud
 *    delivery) the bundle head as HEAD frames bring it, in order from offset
 *    0, at most BW_BUNDLE_HEAD_MAX bytes; BEGIN hands exactly those bytes to
 *    bw_update_begin_staged, which empties the buffer, so every BEGIN checks
 *    a complete, freshly sent head;
 *  - the last request answered (type, sequence number, CRC) and its encoded
 *    answer: the very same frame again (the host resent it because the
 *    answer was late) gets the same answer, and nothing is done twice
 *    (HELLO, which changes nothing, is always answered afresh).
 * Everything else (what was received, where to resume) is the update
 * engine's, journaled in flash: a device restart loses only this RAM state,
 * and the host's next HEAD + BEGIN resumes the download.
 *
 * Provisioning (docs/SPEC.md §12) uses the same frames: CSR_READ at offset
 * 0 builds a fresh certificate request into `csr` and answers its first
 * chunk, later offsets read that request; PROV_DATA fills the credentials
 * store's RAM draft; PROV_COMMIT has the store check and write it.
 *
 * Requests are answered in order, one answer each; a bad frame gets a NACK
 * with sequence number BW_LINK_SEQ_NONE. Lengths and offsets in requests are
 * checked against the payload actually received before anything is read.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_board.h"
#include "bw_config.h"
#include "bw_credentials.h"
#include "bw_debug_monitor.h"
#include "bw_identity.h"
#include "bw_kernel.h"
#include "bw_kernel_slots.h"
#include "bw_link.h"
#include "bw_log.h"
#include "bw_manifest.h"
#include "bw_port.h"
#include "bw_update.h"
#include "bw_version.h"
#include "kernel_trial.h"
#include "key_set_service.h"
#include "link_service.h"
#include "update_service.h"

#define NACK_PAYLOAD_MAX   (BW_LINK_NACK_FIXED + BW_LINK_REASON_MAX)
#define REPLY_PAYLOAD_MAX  BW_LINK_PAYLOAD_MAX   /* a CHUNK is the longest answer */
#define REPLY_ENCODED_MAX  (2u + 2u * (BW_LINK_HEADER_SIZE + REPLY_PAYLOAD_MAX + BW_LINK_CRC_SIZE))
#define RX_CHUNK           64u
#define BAD_FRAMES_LOGGED  8u    /* in a row; then quiet until a good frame */

_Static_assert(BW_LINK_STATUS_SIZE <= REPLY_PAYLOAD_MAX && NACK_PAYLOAD_MAX <= REPLY_PAYLOAD_MAX
               && BW_LINK_CHUNK_FIXED + BW_LINK_DATA_MAX <= REPLY_PAYLOAD_MAX, "answers fit a reply");

static struct {
    bool started;
    bw_link_decoder decoder;
    uint8_t rx[RX_CHUNK];
    uint32_t version;              /* app version of the bundle begun, 0: none */
    bool kernel;                   /* what was begun is a signed kernel file (version: its) */
    uint32_t bundle_size;
    bool have_last;                /* the last request and its answer */
    uint8_t last_type;
    uint16_t last_seq;
    uint32_t last_crc;
    size_t reply_len;
    uint8_t reply[REPLY_ENCODED_MAX];
    uint32_t bad_in_row;
    uint32_t dropped_logged;
    bw_flash_stats flash_at_begin[BW_PARTITION_COUNT];
    size_t csr_len;                /* the request CSR_READ at offset 0 built */
    uint8_t csr[BW_CRED_CSR_MAX];
    bool debugging;                /* the attached debugger came over this link */
    uint64_t debug_last_us;        /* its last DEBUG request (SPEC §9.2: peer timeout) */
} link;

static const char *const partition_names[BW_PARTITION_COUNT] = {
    [BW_PARTITION_APP_SLOT] = "app slot",
    [BW_PARTITION_IMAGE_A] = "bank A",
    [BW_PARTITION_IMAGE_B] = "bank B",
    [BW_PARTITION_UPDATE_STATE] = "journal",
    [BW_PARTITION_CRASH_LOG] = "crash log",
    [BW_PARTITION_CREDENTIALS] = "credentials",
    [BW_PARTITION_DEBUG_PATCH] = "debug patch",
    [BW_PARTITION_KERNEL_NEW] = "staged kernel",
    [BW_PARTITION_KERNEL_OLD] = "backup kernel",
    [BW_PARTITION_KERNEL_STATE] = "kernel journal",
};

/* ---- answers ---- */

static void answer(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    link.reply_len = bw_link_encode(type, seq, payload, len, link.reply, sizeof link.reply);
    board_link_write(link.reply, link.reply_len);
}

static void ack(uint16_t seq, uint32_t value)
{
    uint8_t p[BW_LINK_ACK_SIZE] = {0};
    bw_put32(p, value);
    p[4] = bw_update_current_state()->op;
    answer(BW_LINK_ACK, seq, p, sizeof p);
}

/* NACK with a code, the engine's reasons (why may be NULL), a value and a text. */
static void nack(uint16_t seq, bw_link_nack_code code, const bw_update_diag *why, uint32_t value,
                 const char *text)
{
    uint8_t p[NACK_PAYLOAD_MAX] = {0};
    p[0] = (uint8_t)code;
    if (why != NULL) {
        p[1] = (uint8_t)why->error;
        p[2] = (uint8_t)why->manifest.error;
    }
    bw_put32(p + 4, value);
    size_t n = strlen(text);
    n = n < BW_LINK_REASON_MAX ? n : BW_LINK_REASON_MAX;
    memcpy(p + BW_LINK_NACK_FIXED, text, n);
    answer(BW_LINK_NACK, seq, p, BW_LINK_NACK_FIXED + n);
}

/* The engine's reason as one line; "updates unavailable" is made precise. */
static void describe(const bw_update_diag *why, char *text, size_t size)
{
    if (why->error == BW_UPDATE_E_STORAGE) {
        bw_format(text, size, "updates unavailable on this device (no update storage, "
                  "or no trusted key provisioned)");
        return;
    }
    size_t n = bw_update_describe(why, text, size);
    if (why->error == BW_UPDATE_E_OFFSET && n < size) {
        bw_format(text + n, size - n, " (expected %" PRIu32 ")", bw_update_expected_offset());
    }
}

static void nack_engine(uint16_t seq, const char *what, const bw_update_diag *why)
{
    char text[BW_LINK_REASON_MAX + 1];
    describe(why, text, sizeof text);
    bw_log("update: %s: %s", what, text);
    nack(seq, BW_LINK_NACK_ENGINE, why, bw_update_expected_offset(), text);
}

static void put_device_id(uint8_t out[BW_DEVICE_ID_LEN])
{
    char id[BW_DEVICE_ID_LEN];
    (void)bw_device_id_text(id);   /* zeros if not provisioned */
    memcpy(out, id, sizeof id);
}

/* Bytes of the head staged in the engine (bw_update_head_put). */
static uint32_t head_held(void)
{
    uint32_t held = 0;
    (void)bw_update_head_staged(&held);
    return held;
}

static void status(uint16_t seq)
{
    const bw_update_state *st = bw_update_current_state();
    uint32_t expected = bw_update_expected_offset();
    uint8_t p[BW_LINK_STATUS_SIZE] = {0};
    p[0] = BW_LINK_VERSION;
    p[1] = st->op;
    p[2] = (uint8_t)((st->trial ? BW_LINK_STATUS_TRIAL : 0u)
                     | (expected != 0 ? BW_LINK_STATUS_SESSION : 0u)
                     | (bw_update_available() ? BW_LINK_STATUS_UPDATES : 0u)
                     | (bw_credentials_have_key() ? BW_LINK_STATUS_KEY_READY : 0u)
                     | (bw_credentials_provisioned() ? BW_LINK_STATUS_PROVISIONED : 0u)
                     | (kernel_trial_on_trial() ? BW_LINK_STATUS_KERNEL_TRIAL : 0u));
    bw_put32(p + 4, st->current_version);
    bw_put32(p + 8, st->highest_version);
    bw_put32(p + 12, expected);
    bw_put32(p + 16, head_held());
    bw_put32(p + 20, update_service_kernel_version());   /* sealed: what the stub verified */
    bw_put16(p + 24, BW_LINK_DATA_MAX);
    _Static_assert(28u + BW_DEVICE_ID_LEN + 2u == BW_LINK_STATUS_SIZE, "STATUS layout");
    put_device_id(p + 28);
    answer(BW_LINK_STATUS, seq, p, sizeof p);
}

/* ---- requests ---- */

static void snapshot_flash(bw_flash_stats at[BW_PARTITION_COUNT])
{
    for (unsigned i = 0; i < BW_PARTITION_COUNT; i++) {
        (void)bw_flash_stats_get((bw_partition_id)i, &at[i]);
    }
}

/* One line per partition the update touched since BEGIN (boards that count). */
static void log_flash_work(void)
{
    for (unsigned i = 0; i < BW_PARTITION_COUNT; i++) {
        bw_flash_stats now;
        if (!bw_flash_stats_get((bw_partition_id)i, &now)) {
            return;
        }
        uint32_t erased = now.sectors_erased - link.flash_at_begin[i].sectors_erased;
        uint32_t programmed = now.bytes_programmed - link.flash_at_begin[i].bytes_programmed;
        if (erased != 0 || programmed != 0) {
            bw_log("update: flash work since BEGIN: %s: %" PRIu32 " sectors erased, %" PRIu32
                   " bytes programmed", partition_names[i], erased, programmed);
        }
    }
}

static void on_head(uint16_t seq, const uint8_t *p, uint16_t len)
{
    if (len <= 4u) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, head_held(), "HEAD carries no bundle bytes");
        return;
    }
    uint32_t held = 0;
    bw_err err = bw_update_head_put(bw_get32(p), p + 4, len - 4u, &held);
    if (err == BW_E_SIZE) {
        char text[96];
        bw_format(text, sizeof text, "bundle head longer than %u bytes", (unsigned)BW_BUNDLE_HEAD_MAX);
        bw_log("update: bundle rejected: %s", text);
        nack(seq, BW_LINK_NACK_HEAD, NULL, 0, text);
        return;
    }
    if (err != BW_OK) {
        nack(seq, BW_LINK_NACK_HEAD, NULL, held, "head bytes not at the expected offset");
        return;
    }
    ack(seq, held);
}

static void on_begin(uint16_t seq, const uint8_t *p, uint16_t len)
{
    uint32_t held = head_held();
    if (len != 4u) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, held, "BEGIN needs a 4-byte head length");
        return;
    }
    uint32_t head_len = bw_get32(p);
    if (head_len != held || head_len == 0) {
        char text[96];
        bw_format(text, sizeof text, "BEGIN for a %" PRIu32 "-byte head, %" PRIu32 " bytes received",
                  head_len, held);
        nack(seq, BW_LINK_NACK_HEAD, NULL, held, text);
        return;
    }
    snapshot_flash(link.flash_at_begin);
    uint32_t resume = 0;
    bw_update_diag why;
    uint64_t started = port_time_us();
    bw_err err = bw_update_begin_staged(head_len, &resume, &why);
    uint32_t took = (uint32_t)(port_time_us() - started);
    bw_update_download info;
    if (err == BW_OK) {
        err = bw_update_download_info(&info);
    }
    if (err != BW_OK) {
        char text[BW_LINK_REASON_MAX + 1];
        describe(&why, text, sizeof text);
        bw_log("update: bundle rejected: %s (head checked in %" PRIu32 " us)", text, took);
        link.version = 0;
        nack(seq, BW_LINK_NACK_ENGINE, &why, 0, text);
        return;
    }
    /* begin parsed and verified the head: these fields are the signed ones. */
    link.version = info.app_version;
    link.kernel = info.kernel;
    link.bundle_size = info.bundle_size;
    if (info.kernel) {
        char text[16];
        bw_kslots_version_text(info.app_version, text);
        bw_log("update: receiving kernel %s (resume at offset %" PRIu32 " of %" PRIu32
               "; seal and chain checked in %" PRIu32 " us)", text, resume, link.bundle_size, took);
    } else {
        bw_log("update: receiving bundle version %" PRIu32 " (resume at offset %" PRIu32 " of %" PRIu32
               "; head checked in %" PRIu32 " us)", link.version, resume, link.bundle_size, took);
    }
    ack(seq, resume);
}

static void on_data(uint16_t seq, const uint8_t *p, uint16_t len)
{
    if (len <= 4u) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, bw_update_expected_offset(),
             "DATA carries no bundle bytes");
        return;
    }
    bw_update_diag why;
    uint32_t offset = bw_get32(p);
    if (bw_update_write(offset, p + 4, len - 4u, &why) != BW_OK) {
        char what[48];
        bw_format(what, sizeof what, "data at offset %" PRIu32 " refused", offset);
        nack_engine(seq, what, &why);
        return;
    }
    ack(seq, bw_update_expected_offset());
}

static void on_finish(uint16_t seq)
{
    bw_update_diag why;
    uint64_t started = port_time_us();
    bw_err err = bw_update_finish(&why);
    uint32_t took = (uint32_t)(port_time_us() - started);
    if (err != BW_OK) {
        nack_engine(seq, "bundle rejected", &why);
        return;
    }
    if (link.kernel) {
        char text[16];
        bw_kslots_version_text(link.version, text);
        bw_log("update: kernel %s received and verified (%" PRIu32 " bytes; image checked in %" PRIu32
               " us)", text, link.bundle_size, took);
    } else {
        bw_log("update: bundle version %" PRIu32 " received and verified (%" PRIu32
               " bytes; layers and image checked in %" PRIu32 " us)", link.version, link.bundle_size, took);
    }
    ack(seq, link.bundle_size);
}

/* A downloaded kernel: staged for the stub, answered, and the chip resets at
 * the kernel loop's next pass (update_service_poll); the host sees the new
 * kernel's version in STATUS once the stub has swapped it in (§19.6). */
static void on_install_kernel(uint16_t seq)
{
    bw_update_diag why;
    char text[16];
    bw_kslots_version_text(link.version, text);
    if (update_service_install(&why) != BW_OK || !update_service_kernel_staged()) {
        nack_engine(seq, "kernel not staged", &why);
        return;
    }
    bw_log("update: kernel %s staged for the boot stub", text);
    log_flash_work();
    uint32_t staged = link.version;
    link.version = 0;
    ack(seq, staged);   /* the version staged; STATUS says the running one after the reset */
}

static void on_install(uint16_t seq)
{
    const bw_update_state *st = bw_update_current_state();
    if (st->op != BW_UPDATE_OP_DOWNLOADED || link.version == 0) {
        bw_update_diag why = { .error = BW_UPDATE_E_NO_DOWNLOAD };
        nack(seq, BW_LINK_NACK_INSTALL, &why, st->current_version,
             "no verified bundle to install (send HEAD, BEGIN, DATA and FINISH first)");
        return;
    }
    if (st->op_bank == BW_BANK_KERNEL) {
        on_install_kernel(seq);
        return;
    }
    uint32_t old_version = st->current_version;
    bw_log("update: verified, installing version %" PRIu32, link.version);
    uint64_t started = port_time_us();
    (void)update_service_install(NULL);   /* on success the app restarts when the kernel loop returns */
    uint32_t took = (uint32_t)(port_time_us() - started);
    st = bw_update_current_state();
    bool installed = st->op == BW_UPDATE_OP_NONE && st->current_version == link.version;
    bw_log("update: install took %" PRIu32 " us", took);
    log_flash_work();
    if (!installed) {
        char text[BW_LINK_REASON_MAX + 1];
        bw_format(text, sizeof text, "install of version %" PRIu32 " failed (kernel log has the "
                  "reason): app version %" PRIu32 " runs", link.version,
                  st->op == BW_UPDATE_OP_NONE ? st->current_version : old_version);
        nack(seq, BW_LINK_NACK_INSTALL, NULL, st->current_version, text);
        return;
    }
    link.version = 0;
    ack(seq, st->current_version);
}

/* ---- the app debug monitor (docs/SPEC.md §9.2, §20) ---- */

/* One monitor request, answered DEBUG_ANSWER. No authentication: the
 * local link is the bench's physical port (SPEC §9.2). */
static void on_debug(uint16_t seq, const uint8_t *p, uint16_t len)
{
    if (len == 0 || len > BW_DEBUG_PACKET_MAX) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, 0, "DEBUG carries one monitor request, 1..480 bytes");
        return;
    }
    uint8_t out[BW_DEBUG_PACKET_MAX];
    size_t n = bw_debug_monitor_request(p, len, out, sizeof out);
    link.debug_last_us = port_time_us();
    link.debugging = bw_debug_monitor_attached();
    answer(BW_LINK_DEBUG_ANSWER, seq, out, n);
}

/* A debugger silent for BW_DEBUG_PEER_TIMEOUT_MS is gone (SPEC §9.2). */
static void debug_watch(void)
{
    if (link.debugging && bw_debug_monitor_attached()
        && port_time_us() - link.debug_last_us > (uint64_t)BW_DEBUG_PEER_TIMEOUT_MS * 1000u) {
        bw_log("debug: no request over the link for %u ms: the debugger is lost",
               (unsigned)BW_DEBUG_PEER_TIMEOUT_MS);
        bw_debug_monitor_peer_lost();
    }
    link.debugging = link.debugging && bw_debug_monitor_attached();
}

/* ---- provisioning (docs/SPEC.md §12) ---- */

static void nack_provision(uint16_t seq, const char *text)
{
    bw_log("credentials: provisioning refused: %s", text);
    nack(seq, BW_LINK_NACK_PROVISION, NULL, 0, text);
}

static void on_csr_read(uint16_t seq, const uint8_t *p, uint16_t len)
{
    if (len != 4u) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, 0, "CSR_READ needs a 4-byte offset");
        return;
    }
    uint32_t offset = bw_get32(p);
    if (offset == 0) {
        char id[BW_DEVICE_ID_LEN];
        link.csr_len = 0;
        if (bw_device_id_text(id) != BW_OK) {
            nack_provision(seq, "the device has no identity record (no device ID)");
            return;
        }
        bw_err err = bw_credentials_csr(id, link.csr, sizeof link.csr, &link.csr_len);
        if (err != BW_OK) {
            char text[80];
            bw_format(text, sizeof text, "cannot build the certificate request (error %d%s)",
                      (int)err, err == BW_E_UNAVAILABLE ? ": the device has no key" : "");
            nack_provision(seq, text);
            return;
        }
    }
    if (link.csr_len == 0 || offset >= link.csr_len) {
        nack(seq, BW_LINK_NACK_PROVISION, NULL, (uint32_t)link.csr_len,
             "CSR_READ offset past the request (read offset 0 first)");
        return;
    }
    uint8_t out[BW_LINK_CHUNK_FIXED + BW_LINK_DATA_MAX];
    size_t n = link.csr_len - offset < BW_LINK_DATA_MAX ? link.csr_len - offset : BW_LINK_DATA_MAX;
    bw_put32(out, (uint32_t)link.csr_len);
    memcpy(out + BW_LINK_CHUNK_FIXED, link.csr + offset, n);
    answer(BW_LINK_CHUNK, seq, out, BW_LINK_CHUNK_FIXED + n);
}

static void on_prov_data(uint16_t seq, const uint8_t *p, uint16_t len)
{
    if (len <= BW_LINK_PROV_FIXED || p[1] != 0 || p[2] != 0 || p[3] != 0) {
        nack(seq, BW_LINK_NACK_PAYLOAD, NULL, 0,
             "PROV_DATA needs an item, 3 zero bytes, an offset and 1..508 bytes");
        return;
    }
    uint32_t held = 0;
    bw_err err = bw_credentials_draft_put((bw_cred_item)p[0], bw_get32(p + 4),
                                          p + BW_LINK_PROV_FIXED, len - BW_LINK_PROV_FIXED, &held);
    if (err != BW_OK) {
        char text[96];
        bw_format(text, sizeof text, "%s (item %u, %" PRIu32 " bytes held)",
                  err == BW_E_SIZE ? "provisioning item too long"
                                   : "unknown provisioning item or offset out of order",
                  (unsigned)p[0], held);
        nack(seq, BW_LINK_NACK_PROVISION, NULL, held, text);
        return;
    }
    ack(seq, held);
}

static void on_prov_commit(uint16_t seq)
{
    char id[BW_DEVICE_ID_LEN];
    char text[BW_LINK_REASON_MAX + 1];
    if (bw_device_id_text(id) != BW_OK) {
        nack_provision(seq, "the device has no identity record (no device ID)");
        return;
    }
    uint64_t started = port_time_us();
    if (bw_credentials_commit(id, text, sizeof text) != BW_OK) {
        nack_provision(seq, text);
        return;
    }
    bw_log("credentials: provisioned for broker %s:%u (record %" PRIu32 ", checked and written in %"
           PRIu32 " us)", bw_credentials_broker_host(), (unsigned)bw_credentials_broker_port(),
           bw_credentials_sequence(), (uint32_t)(port_time_us() - started));
    update_service_credentials_changed();
    ack(seq, bw_credentials_sequence());
}

/* KEYS (docs/SPEC.md §12.4): a key set, judged as the cloud's (key_set_service.h). */
static void on_keys(uint16_t seq, const uint8_t *p, uint16_t len)
{
    char text[BW_LINK_REASON_MAX + 1];
    if (key_set_service_take(p, len, text, sizeof text) != BW_OK) {
        nack(seq, BW_LINK_NACK_PROVISION, NULL, bw_credentials_key_set(), text);
        return;
    }
    ack(seq, bw_credentials_key_set());
}

static void on_frame(const bw_link_frame *f)
{
    if (link.have_last && f->type != BW_LINK_HELLO && f->type == link.last_type && f->seq == link.last_seq
        && f->crc == link.last_crc) {
        board_link_write(link.reply, link.reply_len);   /* a resend: the same answer again */
        return;
    }
    link.bad_in_row = 0;
    bool no_payload = f->type == BW_LINK_HELLO || f->type == BW_LINK_FINISH
                   || f->type == BW_LINK_INSTALL || f->type == BW_LINK_PROV_COMMIT;
    if (no_payload && f->len != 0) {
        nack(f->seq, BW_LINK_NACK_PAYLOAD, NULL, 0, "this request carries no payload");
    } else {
        switch (f->type) {
        case BW_LINK_HELLO:
            status(f->seq);
            break;
        case BW_LINK_HEAD:
            on_head(f->seq, f->payload, f->len);
            break;
        case BW_LINK_BEGIN:
            on_begin(f->seq, f->payload, f->len);
            break;
        case BW_LINK_DATA:
            on_data(f->seq, f->payload, f->len);
            break;
        case BW_LINK_FINISH:
            on_finish(f->seq);
            break;
        case BW_LINK_INSTALL:
            on_install(f->seq);
            break;
        case BW_LINK_CSR_READ:
            on_csr_read(f->seq, f->payload, f->len);
            break;
        case BW_LINK_PROV_DATA:
            on_prov_data(f->seq, f->payload, f->len);
            break;
        case BW_LINK_PROV_COMMIT:
            on_prov_commit(f->seq);
            break;
        case BW_LINK_KEYS:
            on_keys(f->seq, f->payload, f->len);
            break;
        case BW_LINK_DEBUG:
            on_debug(f->seq, f->payload, f->len);
            break;
        default: {
            char text[48];
            bw_format(text, sizeof text, "unknown request type 0x%02x", (unsigned)f->type);
            bw_log("link: %s", text);
            nack(f->seq, BW_LINK_NACK_TYPE, NULL, 0, text);
            break;
        }
        }
    }
    link.have_last = true;
    link.last_type = f->type;
    link.last_seq = f->seq;
    link.last_crc = f->crc;
}

static void on_bad_frame(bw_link_error error)
{
    const char *text = bw_link_error_text(error);
    link.bad_in_row++;
    if (link.bad_in_row <= BAD_FRAMES_LOGGED) {
        bw_log("link: dropped a bad frame: %s%s", text,
               link.bad_in_row == BAD_FRAMES_LOGGED ? " (further ones not logged)" : "");
    }
    /* Not through answer(): the cached answer stays the last request's, so
     * that request, resent after this noise, is still answered, not redone. */
    uint8_t p[BW_LINK_NACK_FIXED + 48] = { BW_LINK_NACK_FRAME };
    size_t n = strlen(text);
    n = n < sizeof p - BW_LINK_NACK_FIXED ? n : sizeof p - BW_LINK_NACK_FIXED;
    memcpy(p + BW_LINK_NACK_FIXED, text, n);
    uint8_t wire[2u + 2u * (BW_LINK_HEADER_SIZE + sizeof p + BW_LINK_CRC_SIZE)];
    board_link_write(wire, bw_link_encode(BW_LINK_NACK, BW_LINK_SEQ_NONE, p, BW_LINK_NACK_FIXED + n,
                                          wire, sizeof wire));
}

void link_service_work(void)
{
    if (!link.started) {
        link.started = true;
        bw_link_decoder_init(&link.decoder);
        board_link_start();
    }
    debug_watch();
    uint32_t dropped = board_link_rx_dropped();
    if (dropped != link.dropped_logged) {
        bw_log("link: %" PRIu32 " received bytes dropped so far (receive queue full)", dropped);
        link.dropped_logged = dropped;
    }
    for (;;) {
        size_t n = board_link_read(link.rx, sizeof link.rx);
        if (n == 0) {
            return;
        }
        for (size_t i = 0; i < n; i++) {
            bw_link_frame frame;
            bw_link_error error;
            switch (bw_link_decode_byte(&link.decoder, link.rx[i], &frame, &error)) {
            case BW_LINK_EVENT_FRAME:
                on_frame(&frame);
                break;
            case BW_LINK_EVENT_ERROR:
                on_bad_frame(error);
                break;
            default:
                break;
            }
        }
    }
}
