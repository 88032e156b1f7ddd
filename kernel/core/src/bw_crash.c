/*
 * Crash supervision (bw_crash.h).
 *
 * State: the policy, the crash log, the newest record (also the work buffer
 * of bw_crash_handle: one record of static memory), and the run/health
 * counters. Fields the tick and system calls share with the supervisor
 * thread change under port_irq_lock. Invariant: crashes_since_healthy counts
 * the crashes since the app was last healthy (0 while healthy); probation is
 * true until the app is first healthy after kernel start or an install.
 * The reset marker (bw_reset_marker.h) mirrors whether the app is running
 * (and not paused by the kernel), its version, parked and
 * crashes_since_healthy: written under the lock at every change once
 * bw_crash_boot_reset has read what the previous boot left there.
 */
#include <inttypes.h>
#include <string.h>

#include "bw_app_mem.h"
#include "bw_config.h"
#include "bw_crash.h"
#include "bw_crash_log.h"
#include "bw_handles.h"
#include "bw_log.h"
#include "bw_notify.h"
#include "bw_port.h"
#include "bw_reset_marker.h"

_Static_assert(BW_CRASH_STACK_BYTES % 4 == 0 && BW_CRASH_STACK_BYTES <= BW_CRASH_STACK_CAPACITY,
               "BW_CRASH_STACK_BYTES: a multiple of 4, at most BW_CRASH_STACK_CAPACITY");
_Static_assert(BW_CRASH_RESTART_MIN_MS > 0 && BW_CRASH_RESTART_MIN_MS <= BW_CRASH_RESTART_MAX_MS,
               "crash restart delays");

#define MAX_DELAY_LIMIT_MS (24u * 3600u * 1000u)
#define HEX_CHUNK 64u

static struct {
    bw_crash_policy policy;
    bw_crash_log log;
    bool log_open;
    bw_crash_rollback_fn rollback;
    void *rollback_context;
    uint32_t app_version;

    /* the current run */
    bool running;
    uint64_t started_us;
    bool healthy_this_run;
    uint32_t start_handles;
    uint32_t start_centers;

    /* across runs */
    bool probation;
    bool parked;
    uint32_t crashes_since_healthy;
    uint32_t crash_count;
    uint32_t ram_sequence;

    bool have_last;
    bool last_from_previous_boot;
    bw_crash_record last;

    /* the reset marker */
    uint32_t *marker;              /* the port's reset-surviving RAM, NULL: none */
    bool marker_armed;             /* written from now on (after bw_crash_boot_reset) */
    bool previous_valid;           /* previous: what the last boot left, read at init */
    bw_reset_marker_state previous;
    bool paused;                   /* the kernel stopped the app on purpose (an install) */
} state;

static const bw_crash_policy default_policy = {
    .restart_min_ms = BW_CRASH_RESTART_MIN_MS,
    .restart_max_ms = BW_CRASH_RESTART_MAX_MS,
    .stack_bytes = BW_CRASH_STACK_BYTES,
    .healthy_after_ms = BW_CRASH_HEALTHY_MS,
    .loop_crashes = BW_CRASH_LOOP_CRASHES,
};

/* Under the lock: what a reset now would have to know, into the marker. */
static void marker_save(void)
{
    if (state.marker != NULL && state.marker_armed) {
        bw_reset_marker_state m = {
            .app_running = state.running && !state.paused,
            .parked = state.parked,
            .app_version = state.app_version,
            .crashes_since_healthy = state.crashes_since_healthy,
        };
        bw_reset_marker_write(state.marker, &m);
    }
}

void bw_crash_init(void)
{
    memset(&state, 0, sizeof state);
    state.policy = default_policy;
    state.probation = true;
    size_t words = 0;
    state.marker = port_reset_surviving_ram(&words);
    if (words < BW_RESET_MARKER_WORDS) {
        state.marker = NULL;
    }
    state.previous_valid = state.marker != NULL
                        && bw_reset_marker_read(state.marker, &state.previous) == BW_OK;

    const bw_flash_partition *partition = port_flash_partition(BW_PARTITION_CRASH_LOG);
    bw_err err = bw_crash_log_open(&state.log, partition);
    if (err == BW_E_UNAVAILABLE) {
        bw_log("crash log: no flash partition on this board: crash records are kept in RAM only");
        return;
    }
    if (err != BW_OK) {
        bw_log("crash log: cannot use the partition (error %d): crash records are kept in RAM only",
               (int)err);
        return;
    }
    state.log_open = true;
    if (bw_crash_log_newest(&state.log, &state.last) == BW_OK) {
        state.have_last = true;
        state.last_from_previous_boot = true;
    }
    bw_log("crash log: %" PRIu32 " slots in flash, next record %" PRIu32,
           state.log.slot_count, state.log.next_sequence);
}

bw_err bw_crash_set_policy(const bw_crash_policy *policy)
{
    if (policy->restart_min_ms == 0 || policy->restart_min_ms > policy->restart_max_ms
        || policy->restart_max_ms > MAX_DELAY_LIMIT_MS || policy->stack_bytes % 4u != 0
        || policy->healthy_after_ms == 0 || policy->loop_crashes == 0) {
        return BW_E_INVALID;
    }
    uint32_t lock = port_irq_lock();
    state.policy = *policy;
    if (state.policy.stack_bytes > BW_CRASH_STACK_CAPACITY) {
        state.policy.stack_bytes = BW_CRASH_STACK_CAPACITY;   /* what a record holds */
    }
    port_irq_unlock(lock);
    return BW_OK;
}

void bw_crash_get_policy(bw_crash_policy *out)
{
    *out = state.policy;
}

void bw_crash_set_app_version(uint32_t version)
{
    uint32_t lock = port_irq_lock();
    state.app_version = version;
    marker_save();
    port_irq_unlock(lock);
}

void bw_crash_app_installed(uint32_t version)
{
    uint32_t lock = port_irq_lock();
    state.app_version = version;
    state.probation = true;
    state.parked = false;
    state.crashes_since_healthy = 0;
    marker_save();
    port_irq_unlock(lock);
}

void bw_crash_set_rollback_handler(bw_crash_rollback_fn fn, void *context)
{
    state.rollback = fn;
    state.rollback_context = context;
}

void bw_crash_app_starting(void)
{
    uint32_t handles = (uint32_t)(BW_MAX_HANDLES - bw_handle_count(BW_HANDLE_KIND_NONE));
    uint32_t centers = (uint32_t)bw_notify_open_count();
    uint32_t lock = port_irq_lock();
    state.running = true;
    state.started_us = port_time_us();
    state.healthy_this_run = false;
    state.start_handles = handles;
    state.start_centers = centers;
    state.paused = false;
    marker_save();
    port_irq_unlock(lock);
}

/* Under the lock: the app is healthy; true if that changed anything worth a line. */
static bool mark_healthy(void)
{
    bool news = state.probation || state.crashes_since_healthy != 0 || state.parked;
    state.healthy_this_run = true;
    state.probation = false;
    state.parked = false;
    state.crashes_since_healthy = 0;
    marker_save();
    return news;
}

void bw_crash_tick(uint64_t now_us)
{
    if (!state.running || state.healthy_this_run) {
        return;
    }
    bool news = false;
    uint32_t lock = port_irq_lock();
    if (state.running && !state.healthy_this_run
        && now_us - state.started_us >= (uint64_t)state.policy.healthy_after_ms * 1000u) {
        news = mark_healthy();
    }
    port_irq_unlock(lock);
    if (news) {
        bw_log("app healthy: ran %" PRIu32 " ms without a crash", state.policy.healthy_after_ms);
    }
}

void bw_crash_confirm_healthy(void)
{
    uint32_t lock = port_irq_lock();
    bool news = state.running && mark_healthy();
    port_irq_unlock(lock);
    if (news) {
        bw_log("app healthy: confirmed by the app");
    }
}

bool bw_crash_app_healthy(void)
{
    return state.running && state.healthy_this_run;
}

/* Largest multiple of 4 n <= want such that [sp, sp + n) is app-readable:
 * readability of a prefix only shrinks as it grows, so bisect. */
static uint32_t readable_stack_bytes(uint32_t sp, uint32_t want)
{
    uint32_t low = 0, high = want / 4u;   /* in words: low readable, high + 1 not known */
    if (bw_app_check_range(sp, (size_t)want, BW_ACCESS_READ) == BW_OK) {
        return want;
    }
    while (low < high) {
        uint32_t mid = (low + high + 1u) / 2u;
        if (bw_app_check_range(sp, (size_t)mid * 4u, BW_ACCESS_READ) == BW_OK) {
            low = mid;
        } else {
            high = mid - 1u;
        }
    }
    return low * 4u;
}

/* Fills the record from the capture: registers, status, addresses, stack. */
static void record_from_capture(bw_crash_record *r, const bw_crash_capture *c)
{
    memset(r, 0, sizeof *r);
    r->trigger = (uint8_t)c->trigger;
    const uint32_t *f = c->frame;
    if (c->frame_valid) {
        r->flags |= BW_CRASH_FLAG_FRAME_VALID;
        r->r[0] = f[0];
        r->r[1] = f[1];
        r->r[2] = f[2];
        r->r[3] = f[3];
        r->r[12] = f[4];
        r->lr = f[5];
        r->pc = f[6];
        r->xpsr = f[7];
        r->app_exception = (uint16_t)(f[7] & 0x1FFu);
    } else if ((c->exc_return & (1u << 3)) == 0) {
        r->app_exception = 0x1FFu;   /* handler mode, exception unknown */
    }
    memcpy(&r->r[4], c->r4_r11, sizeof c->r4_r11);
    r->sp = c->sp;
    r->exc_return = c->exc_return;
    r->control_ns = c->control_ns;
    r->msp_ns = c->msp_ns;
    r->psp_ns = c->psp_ns;
    r->msplim_ns = c->msplim_ns;
    r->psplim_ns = c->psplim_ns;
    r->masks_ns = c->masks_ns;
    r->cfsr = c->cfsr;
    r->cfsr_ns = c->cfsr_ns;
    r->hfsr = c->hfsr;
    r->sfsr = c->sfsr;
    r->sfar = c->sfar;
    r->bfar = c->bfar;
    r->mmfar_ns = c->mmfar_ns;
    if ((c->exc_return & (1u << 4)) == 0) {
        r->flags |= BW_CRASH_FLAG_FP_FRAME;
    }
    /* The address registers count only with their VALID bit. */
    if (c->trigger == 7u && (c->sfsr & (1u << 6))) {
        r->flags |= BW_CRASH_FLAG_SFAR_VALID;
        r->fault_address = c->sfar;
    } else if (c->cfsr & (1u << 15)) {
        r->flags |= BW_CRASH_FLAG_BFAR_VALID;
        r->fault_address = c->bfar;
    } else if (c->cfsr_ns & (1u << 7)) {
        r->flags |= BW_CRASH_FLAG_MMFAR_VALID;
        r->fault_address = c->mmfar_ns;
    }
    r->app_version = state.app_version;
    r->uptime_us = c->time_us;
    uint64_t ran_us = c->time_us - state.started_us;
    r->run_time_ms = ran_us / 1000u > UINT32_MAX ? UINT32_MAX : (uint32_t)(ran_us / 1000u);

    uint32_t want = state.policy.stack_bytes;
    uint32_t got = readable_stack_bytes(c->sp, want);
    if (got > 0 && bw_app_copy_in(r->stack, c->sp, got) != BW_OK) {
        got = 0;
    }
    if (got < want) {
        r->flags |= BW_CRASH_FLAG_STACK_TRUNCATED;
    }
    r->stack_base = c->sp;
    r->stack_len = (uint16_t)got;
}

/* Reads the faulting instruction into the record and classifies the crash. */
static bw_crash_class classify(bw_crash_record *r, const bw_crash_capture *c)
{
    uint16_t insn = 0;
    if ((r->flags & BW_CRASH_FLAG_FRAME_VALID)
        && bw_app_copy_in(&insn, r->pc & ~1u, sizeof insn) == BW_OK) {
        r->insn = insn;
        r->flags |= BW_CRASH_FLAG_INSN_VALID;
    }
    bool has_address = (r->flags & (BW_CRASH_FLAG_SFAR_VALID | BW_CRASH_FLAG_BFAR_VALID
                                    | BW_CRASH_FLAG_MMFAR_VALID)) != 0;
    bw_address_kind kind = has_address ? port_address_kind(r->fault_address) : BW_ADDRESS_UNKNOWN;
    if (c->bad_call) {
        return BW_CRASH_CLASS_BAD_KERNEL_CALL;
    }
    return bw_crash_classify(r, c->hang, kind);
}

/* min * 2^(n-2) for the n-th crash since healthy (n >= 2), at most max. */
static uint32_t backoff_ms(uint32_t n)
{
    const bw_crash_policy *p = &state.policy;
    if (n <= 1u) {
        return 0;
    }
    uint64_t delay = p->restart_min_ms;
    for (uint32_t i = 2; i < n && delay < p->restart_max_ms; i++) {
        delay *= 2u;
    }
    return delay > p->restart_max_ms ? p->restart_max_ms : (uint32_t)delay;
}

/* Updates the run and loop state for a crash; fills the record's counters,
 * loop action and delay. May call the rollback hook. */
static void decide(bw_crash_record *r)
{
    uint32_t lock = port_irq_lock();
    state.running = false;
    if (!state.healthy_this_run
        && r->run_time_ms >= state.policy.healthy_after_ms) {
        (void)mark_healthy();   /* the tick did not get to it before the crash */
    }
    state.crash_count++;
    state.crashes_since_healthy++;
    bool loop = state.probation && state.crashes_since_healthy >= state.policy.loop_crashes;
    bool newly_looping = loop && !state.parked;
    marker_save();
    port_irq_unlock(lock);

    r->crash_count = state.crash_count;
    r->crashes_since_healthy = state.crashes_since_healthy;
    r->restart_delay_ms = backoff_ms(state.crashes_since_healthy);
    if (!loop) {
        return;
    }
    r->flags |= BW_CRASH_FLAG_CRASH_LOOP;
    if (newly_looping && state.rollback != NULL
        && state.rollback(state.rollback_context, r) == BW_OK) {
        r->loop_action = BW_CRASH_LOOP_ROLLED_BACK;
        r->restart_delay_ms = 0;
        lock = port_irq_lock();
        state.crashes_since_healthy = 0;   /* the good app starts its own probation */
        marker_save();
        port_irq_unlock(lock);
        return;
    }
    lock = port_irq_lock();
    state.parked = true;
    marker_save();
    port_irq_unlock(lock);
    r->loop_action = BW_CRASH_LOOP_PARKED;
    r->restart_delay_ms = state.policy.restart_max_ms;
}

/* "[kernel] crash record: <hex>": the whole record on one line, for
 * `bulwark crash decode` (longer than a bw_log line, so written in chunks). */
static void print_record_hex(const bw_crash_record *r)
{
    static const char prefix[] = "[kernel] crash record: ";
    static const char digits[] = "0123456789abcdef";
    const uint8_t *bytes = (const uint8_t *)r;
    char chunk[2u * HEX_CHUNK];
    bw_log_write(prefix, sizeof prefix - 1u);
    for (uint32_t done = 0; done < sizeof *r; done += HEX_CHUNK) {
        uint32_t n = sizeof *r - done < HEX_CHUNK ? (uint32_t)sizeof *r - done : HEX_CHUNK;
        for (uint32_t i = 0; i < n; i++) {
            chunk[2u * i] = digits[bytes[done + i] >> 4];
            chunk[2u * i + 1u] = digits[bytes[done + i] & 0xFu];
        }
        bw_log_write(chunk, 2u * n);
    }
    bw_log_write("\n", 1);
}

static void print_record(const bw_crash_record *r)
{
    char context[32];
    bw_crash_context_text(r->app_exception, context, sizeof context);
    if (r->crash_class == BW_CRASH_CLASS_KERNEL_RESET) {
        strcpy(context, "an unknown context");   /* a reset leaves no registers */
    }
    bool frame = (r->flags & BW_CRASH_FLAG_FRAME_VALID) != 0;
    bw_log("app crash: %s: %s", r->crash_class == BW_CRASH_CLASS_HANG ? "hang"
                                                                     : bw_crash_trigger_name(r->trigger),
           bw_crash_cause_text(r));
    bw_log("  pc=0x%08" PRIx32 " lr=0x%08" PRIx32 " sp=0x%08" PRIx32 " xpsr=0x%08" PRIx32 "%s addr=0x%08" PRIx32,
           r->pc, r->lr, r->sp, r->xpsr, frame ? "" : " (frame lost)", r->fault_address);
    bw_log("  r0=0x%08" PRIx32 " r1=0x%08" PRIx32 " r2=0x%08" PRIx32 " r3=0x%08" PRIx32 " r12=0x%08" PRIx32,
           r->r[0], r->r[1], r->r[2], r->r[3], r->r[12]);
    bw_log("  r4=0x%08" PRIx32 " r5=0x%08" PRIx32 " r6=0x%08" PRIx32 " r7=0x%08" PRIx32 " r8=0x%08" PRIx32 " r9=0x%08" PRIx32 " r10=0x%08" PRIx32 " r11=0x%08" PRIx32,
           r->r[4], r->r[5], r->r[6], r->r[7], r->r[8], r->r[9], r->r[10], r->r[11]);
    bw_log("  exc_return=0x%08" PRIx32 " control_ns=0x%08" PRIx32 " cfsr=0x%08" PRIx32 " cfsr_ns=0x%08" PRIx32 " hfsr=0x%08" PRIx32 " sfsr=0x%08" PRIx32,
           r->exc_return, r->control_ns, r->cfsr, r->cfsr_ns, r->hfsr, r->sfsr);
    bw_log("  crash class: %s in %s (crash %" PRIu32 " since boot, %" PRIu32 " since healthy, ran %" PRIu32 " ms)",
           bw_crash_class_name(r->crash_class), context, r->crash_count, r->crashes_since_healthy,
           r->run_time_ms);
    const char *trap = bw_crash_trap_text(r);
    if (trap != NULL) {
        bw_log("  trap: %s", trap);
    }
    print_record_hex(r);
}

/* Keeps the decided record (flash, or RAM only), prints it and what was
 * decided; returns the restart delay. */
static uint32_t keep_and_report(bw_crash_record *r)
{
    bw_err stored = BW_E_UNAVAILABLE;
    if (state.log_open) {
        stored = bw_crash_log_append(&state.log, r);   /* numbers and seals it */
    }
    if (stored != BW_OK) {
        r->sequence = ++state.ram_sequence;
        bw_crash_record_seal(r);
    } else {
        state.ram_sequence = r->sequence;
    }
    state.have_last = true;
    state.last_from_previous_boot = false;

    print_record(r);
    if (stored == BW_OK) {
        bw_log("crash record %" PRIu32 " saved in flash", r->sequence);
    } else if (state.log_open) {
        bw_log("crash record %" PRIu32 " kept in RAM only: flash write failed (error %d)",
               r->sequence, (int)stored);
    }
    if (r->loop_action == BW_CRASH_LOOP_ROLLED_BACK) {
        bw_log("crash loop: %" PRIu32 " crashes before healthy: rolled back to the last-known-good app",
               r->crashes_since_healthy);
    } else if (r->loop_action == BW_CRASH_LOOP_PARKED) {
        bw_log("crash loop: %" PRIu32 " crashes before healthy, no good app to roll back to: "
               "parked at the maximum backoff", r->crashes_since_healthy);
    }
    if (r->restart_delay_ms == 0) {
        bw_log("restarting the app now");
    } else {
        bw_log("restarting the app in %" PRIu32 " ms", r->restart_delay_ms);
    }
    return r->restart_delay_ms;
}

uint32_t bw_crash_handle(const bw_crash_capture *capture)
{
    bw_crash_record *r = &state.last;
    record_from_capture(r, capture);
    r->crash_class = (uint8_t)classify(r, capture);
    decide(r);
    return keep_and_report(r);
}

void bw_crash_app_pause(bool paused)
{
    uint32_t lock = port_irq_lock();
    state.paused = paused;
    marker_save();
    port_irq_unlock(lock);
}

bool bw_crash_boot_reset(uint32_t *delay_ms, bool *rolled_back)
{
    *delay_ms = 0;
    *rolled_back = false;
    bw_reset_marker_state prev = state.previous;
    bool same_app = state.previous_valid && prev.app_version == state.app_version;
    uint32_t lock = port_irq_lock();
    state.marker_armed = true;
    state.previous_valid = false;   /* read once */
    if (same_app) {
        /* The count and the park survive a reset; probation starts again
         * with the kernel, as it always has. */
        state.crashes_since_healthy = prev.crashes_since_healthy;
        state.parked = prev.parked;
    }
    marker_save();
    port_irq_unlock(lock);
    if (!same_app || !prev.app_running) {
        if (state.marker != NULL && prev.app_running) {
            bw_log("reset marker: app version %" PRIu32 " was running at the reset, version %" PRIu32
                   " is in the slot now: not counted", prev.app_version, state.app_version);
        }
        return false;
    }

    bw_crash_record *r = &state.last;
    memset(r, 0, sizeof *r);
    r->crash_class = BW_CRASH_CLASS_KERNEL_RESET;
    r->trigger = 1u;   /* the Reset exception */
    r->app_version = prev.app_version;
    r->uptime_us = port_time_us();
    r->run_time_ms = 0;   /* unknown: the reset took the clock with it */
    decide(r);
    *rolled_back = r->loop_action == BW_CRASH_LOOP_ROLLED_BACK;
    *delay_ms = keep_and_report(r);
    return true;
}

bool bw_crash_last(bw_crash_record *out, bool *previous_boot)
{
    uint32_t lock = port_irq_lock();
    bool have = state.have_last;
    if (have) {
        *out = state.last;
        *previous_boot = state.last_from_previous_boot;
    }
    port_irq_unlock(lock);
    return have;
}

bw_err bw_crash_next_record(uint32_t after, bw_crash_record *out)
{
    if (state.log_open && bw_crash_log_next(&state.log, after, out) == BW_OK) {
        return BW_OK;
    }
    bool found = false;
    uint32_t lock = port_irq_lock();
    if (state.have_last && !state.last_from_previous_boot && state.last.sequence > after) {
        *out = state.last;
        found = true;
    }
    port_irq_unlock(lock);
    return found ? BW_OK : BW_E_UNAVAILABLE;
}

uint32_t bw_crash_count(void)
{
    return state.crash_count;
}

void bw_crash_start_state(uint32_t *live_handles, uint32_t *open_centers)
{
    *live_handles = state.start_handles;
    *open_centers = state.start_centers;
}
