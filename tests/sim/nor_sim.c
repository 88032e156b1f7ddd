/*
 * nor_sim: the NOR flash model behind nor_sim.h.
 *
 * State: the contents (heap, size bytes), the operation counter, at most one
 * armed cut and one armed error (each an absolute operation number), the
 * power flag and per-sector erase counts. Invariant: while powered is false
 * no device call may arrive (it aborts); cut_armed is false after any cut.
 * Torn outcomes come from a splitmix64 stream seeded by (seed, op number), so
 * the outcome of a cut at operation k does not depend on earlier cuts.
 */
#include "nor_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nor_sim {
    bw_flash_device device;
    uint8_t *data;
    uint64_t *erase_counts;   /* one per sector */
    bool program_once;        /* ECC flash: see nor_sim_config */
    uint8_t *unit_programmed; /* program_once: 1 per unit programmed since its erase */
    uint8_t *unit_torn;       /* program_once: 1 per unit a cut left half-written (ECC error) */
    unsigned tear_choice;     /* 0: seeded; k >= 1: pattern k-1 of the operation's kind */
    bool read_error_armed;
    uint64_t read_error_at;   /* stats.reads numbering of the read that fails */
    bw_err read_error_once;
    uint64_t seed;
    uint64_t ops;
    uint64_t trace;           /* nor_sim_trace: hash of the operations since its reset */
    nor_sim_stats stats;
    bool powered;
    bool cut_armed;
    uint64_t cut_op;
    bool error_armed;
    uint64_t error_op;
    bw_err error;
    bw_err read_error;
    jmp_buf *cut_handler;
    bool have_last_cut;
    nor_sim_cut_info last_cut;
    struct {                  /* the last cut operation's range before it (nor_sim_retear) */
        uint8_t *data, *wanted, *programmed, *torn;
    } before;
};

static bool is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void power_is_on_or_die(const nor_sim *sim, const char *what)
{
    if (!sim->powered) {
        fprintf(stderr, "nor_sim: %s while the power is off (after a cut, before "
                        "nor_sim_power_on): the test kept running past a power cut\n", what);
        abort();
    }
}

static bool in_device(const nor_sim *sim, uint32_t offset, uint32_t len)
{
    return offset <= sim->device.size && len <= sim->device.size - offset;
}

static bw_err check_program(const nor_sim *sim, uint32_t offset, const uint8_t *src, uint32_t len)
{
    if (!in_device(sim, offset, len)) {
        return BW_E_SIZE;
    }
    uint32_t mask = sim->device.program_unit - 1;
    if ((offset & mask) != 0 || (len & mask) != 0) {
        return BW_E_ALIGN;
    }
    for (uint32_t i = 0; i < len; i++) {
        if ((src[i] & (uint8_t)~sim->data[offset + i]) != 0) {
            return BW_E_INVALID;   /* a 0 -> 1 transition */
        }
        if (sim->program_once && (sim->data[offset + i] != 0xFFu
                                  || sim->unit_programmed[(offset + i) / sim->device.program_unit])) {
            return BW_E_INVALID;   /* ECC flash: the unit was programmed already */
        }
    }
    return BW_OK;
}

static void clear_torn_units(nor_sim *sim, uint32_t offset, uint32_t len)
{
    if (sim->program_once) {
        memset(sim->unit_torn + offset / sim->device.program_unit, 0, len / sim->device.program_unit);
    }
}

/* program_once bookkeeping after a torn erase: a unit that reads all 0xFF
 * counts as erased (programmable), any other as programmed. */
static void mark_erased_units(nor_sim *sim, uint32_t offset)
{
    if (!sim->program_once) {
        return;
    }
    static const uint8_t erased[256] = { [0 ... 255] = 0xFF };   /* program_unit <= 256 here */
    uint32_t unit = sim->device.program_unit;
    for (uint32_t at = offset; at < offset + sim->device.sector_size; at += unit) {
        sim->unit_programmed[at / unit] = memcmp(sim->data + at, erased, unit) == 0 ? 0 : 1;
    }
}

void nor_sim_raw_written(nor_sim *sim)
{
    clear_torn_units(sim, 0, sim->device.size);
    for (uint32_t offset = 0; offset < sim->device.size; offset += sim->device.sector_size) {
        mark_erased_units(sim, offset);
    }
}

/* program_once bookkeeping: units [offset, offset+len) now hold ECC. */
static void mark_programmed(nor_sim *sim, uint32_t offset, uint32_t len, uint8_t value)
{
    if (sim->program_once) {
        uint32_t unit = sim->device.program_unit;
        memset(sim->unit_programmed + offset / unit, value, len / unit);
    }
}

static bw_err check_erase(const nor_sim *sim, uint32_t offset)
{
    if (offset >= sim->device.size) {
        return BW_E_SIZE;
    }
    if ((offset & (sim->device.sector_size - 1)) != 0) {
        return BW_E_ALIGN;
    }
    return BW_OK;
}

/* Applies a subset of the 1->0 transitions program(offset, src, len) asks for. */
static nor_sim_tear tear_program(nor_sim *sim, uint64_t *rng, uint32_t offset,
                                 const uint8_t *src, uint32_t len)
{
    uint8_t *dst = sim->data + offset;
    uint64_t pick = sim->tear_choice != 0 ? (sim->tear_choice - 1u) % 6u : splitmix64(rng) % 4;
    switch (pick) {
    case 0:
        return NOR_SIM_TEAR_PROGRAM_NONE;
    case 1:
        memcpy(dst, src, len);
        return NOR_SIM_TEAR_PROGRAM_ALL;
    case 2: {
        uint64_t stop = splitmix64(rng) % ((uint64_t)len * 8u + 1u);   /* bits done */
        for (uint32_t i = 0; i < len; i++) {
            uint64_t first_bit = (uint64_t)i * 8u;
            uint8_t done = stop >= first_bit + 8u ? 0xFFu
                         : stop <= first_bit      ? 0x00u
                         : (uint8_t)((1u << (stop - first_bit)) - 1u);
            dst[i] = (uint8_t)(dst[i] & ~((uint8_t)(dst[i] & ~src[i]) & done));
        }
        return NOR_SIM_TEAR_PROGRAM_PREFIX;
    }
    case 3:
        for (uint32_t i = 0; i < len; i++) {
            uint8_t done = (uint8_t)splitmix64(rng);
            dst[i] = (uint8_t)(dst[i] & ~((uint8_t)(dst[i] & ~src[i]) & done));
        }
        return NOR_SIM_TEAR_PROGRAM_RANDOM;
    case 4: {
        /* Every transition but one (a random one of them). */
        uint64_t wanted = 0;
        for (uint32_t i = 0; i < len; i++) {
            wanted += (uint64_t)__builtin_popcount((uint8_t)(dst[i] & ~src[i]));
        }
        uint64_t skip = wanted != 0 ? splitmix64(rng) % wanted : 0;
        for (uint32_t i = 0; i < len; i++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                uint8_t m = (uint8_t)(1u << bit);
                if ((dst[i] & m) != 0 && (src[i] & m) == 0 && skip-- != 0) {
                    dst[i] = (uint8_t)(dst[i] & ~m);
                }
            }
        }
        return NOR_SIM_TEAR_PROGRAM_ALL_BUT_ONE;
    }
    default: {
        /* The end first: transitions from a random bit position to the end. */
        uint64_t start = splitmix64(rng) % ((uint64_t)len * 8u + 1u);
        for (uint32_t i = 0; i < len; i++) {
            uint64_t first_bit = (uint64_t)i * 8u;
            uint8_t done = start <= first_bit      ? 0xFFu
                         : start >= first_bit + 8u ? 0x00u
                         : (uint8_t)~((1u << (start - first_bit)) - 1u);
            dst[i] = (uint8_t)(dst[i] & ~((uint8_t)(dst[i] & ~src[i]) & done));
        }
        return NOR_SIM_TEAR_PROGRAM_SUFFIX;
    }
    }
}

static nor_sim_tear tear_erase(nor_sim *sim, uint64_t *rng, uint32_t offset)
{
    uint8_t *dst = sim->data + offset;
    uint32_t n = sim->device.sector_size;
    switch (sim->tear_choice != 0 ? (sim->tear_choice - 1u) % 3u : splitmix64(rng) % 3) {
    case 0:
        memset(dst, 0xFF, (size_t)(splitmix64(rng) % ((uint64_t)n + 1u)));
        return NOR_SIM_TEAR_ERASE_PREFIX;
    case 1:
        for (uint32_t i = 0; i < n; i++) {
            dst[i] = (uint8_t)splitmix64(rng);
        }
        return NOR_SIM_TEAR_ERASE_RANDOM;
    default:
        memset(dst, 0xFF, n);
        return NOR_SIM_TEAR_ERASE_ALL;
    }
}

/* Ends the cut operation: records it, powers off and jumps to the test. */
static void cut_power(nor_sim *sim, uint64_t op_index, nor_sim_op op, uint32_t offset,
                      uint32_t len, nor_sim_tear tear)
{
    sim->last_cut = (nor_sim_cut_info){ op_index, op, offset, len, tear };
    sim->have_last_cut = true;
    sim->stats.cuts++;
    sim->cut_armed = false;
    sim->powered = false;
    if (sim->cut_handler == NULL) {
        fprintf(stderr, "nor_sim: power cut at operation %llu but no cut handler "
                        "(nor_sim_set_cut_handler)\n", (unsigned long long)op_index);
        abort();
    }
    longjmp(*sim->cut_handler, 1);
}

/* Folds an operation's request into the trace (FNV-1a over kind, offset,
 * length and, for a program, the bytes asked for). */
static void trace_op(nor_sim *sim, nor_sim_op op, uint32_t offset, const uint8_t *data, uint32_t len)
{
    uint8_t head[9] = { (uint8_t)op };
    for (unsigned i = 0; i < 4; i++) {
        head[1 + i] = (uint8_t)(offset >> (8 * i));
        head[5 + i] = (uint8_t)(len >> (8 * i));
    }
    uint64_t h = sim->trace;
    for (unsigned i = 0; i < sizeof head; i++) {
        h = (h ^ head[i]) * 0x100000001B3ull;
    }
    for (uint32_t i = 0; data != NULL && i < len; i++) {
        h = (h ^ data[i]) * 0x100000001B3ull;
    }
    sim->trace = h;
}

/* Numbers the next operation; reports an injected error for it, if any. */
static uint64_t begin_op(nor_sim *sim, bw_err *injected)
{
    uint64_t index = sim->ops++;
    *injected = BW_OK;
    if (sim->error_armed && sim->error_op == index) {
        sim->error_armed = false;
        *injected = sim->error;
    }
    return index;
}

static uint64_t tear_rng(const nor_sim *sim, uint64_t op_index)
{
    uint64_t state = sim->seed ^ (op_index * 0xD1B54A32D192ED03ull);
    (void)splitmix64(&state);
    return state;
}

/* Whether [offset, offset+len) touches a unit a cut left half-written. */
static bool reads_torn_unit(const nor_sim *sim, uint32_t offset, uint32_t len)
{
    if (!sim->program_once || len == 0) {
        return false;
    }
    uint32_t unit = sim->device.program_unit;
    for (uint32_t u = offset / unit; u <= (offset + len - 1u) / unit; u++) {
        if (sim->unit_torn[u]) {
            return true;
        }
    }
    return false;
}

/* ECC after a cut operation on [offset, offset+len): a unit that holds
 * neither what it held before (old) nor what the operation asked for
 * (wanted; NULL: all 0xFF, an erase) was partly written, and its ECC no
 * longer matches. */
static void mark_torn_units(nor_sim *sim, uint32_t offset, uint32_t len, const uint8_t *old,
                            const uint8_t *wanted)
{
    if (!sim->program_once) {
        return;
    }
    uint32_t unit = sim->device.program_unit;
    for (uint32_t at = 0; at < len; at += unit) {
        const uint8_t *now = sim->data + offset + at;
        bool as_old = memcmp(now, old + at, unit) == 0;
        bool as_wanted = true;
        for (uint32_t i = 0; i < unit && as_wanted; i++) {
            as_wanted = now[i] == (wanted != NULL ? wanted[at + i] : 0xFFu);
        }
        uint8_t *torn = &sim->unit_torn[(offset + at) / unit];
        *torn = as_wanted ? 0u : as_old ? *torn : 1u;   /* untouched: as it was */
    }
}

static bw_err sim_read(void *context, uint32_t offset, void *buf, uint32_t len)
{
    nor_sim *sim = context;
    power_is_on_or_die(sim, "read");
    sim->stats.reads++;
    if (sim->read_error != BW_OK) {
        return sim->read_error;
    }
    if (sim->read_error_armed && sim->read_error_at == sim->stats.reads - 1u) {
        sim->read_error_armed = false;
        return sim->read_error_once;
    }
    if (!in_device(sim, offset, len)) {
        return BW_E_SIZE;
    }
    if (reads_torn_unit(sim, offset, len)) {
        sim->stats.ecc_errors++;
        return BW_E_TORN;   /* the chip: an ECC double error, the NMI */
    }
    if (len != 0) {
        memcpy(buf, sim->data + offset, len);
    }
    return BW_OK;
}

/* Keeps what a cut operation's range held (and, for a program, the data it
 * asked for), so nor_sim_retear can tear it again another way. */
static void keep_before_cut(nor_sim *sim, uint32_t offset, uint32_t len, const uint8_t *data)
{
    uint32_t unit = sim->device.program_unit;
    free(sim->before.data);
    free(sim->before.wanted);
    free(sim->before.programmed);
    free(sim->before.torn);
    sim->before.data = malloc(len + 1u);
    sim->before.wanted = data != NULL ? malloc(len + 1u) : NULL;
    sim->before.programmed = malloc(len / unit + 1u);
    sim->before.torn = malloc(len / unit + 1u);
    if (sim->before.data == NULL || (data != NULL && sim->before.wanted == NULL)
        || sim->before.programmed == NULL || sim->before.torn == NULL) {
        fprintf(stderr, "nor_sim: out of memory\n");
        abort();
    }
    memcpy(sim->before.data, sim->data + offset, len);
    if (data != NULL) {
        memcpy(sim->before.wanted, data, len);
    }
    memcpy(sim->before.programmed, sim->unit_programmed + offset / unit, len / unit);
    memcpy(sim->before.torn, sim->unit_torn + offset / unit, len / unit);
}

/* Tears the cut operation (its range as keep_before_cut left it). */
static nor_sim_tear apply_tear(nor_sim *sim, uint64_t index, nor_sim_op op, uint32_t offset,
                               uint32_t len)
{
    uint64_t rng = tear_rng(sim, index);
    nor_sim_tear tear;
    if (op == NOR_SIM_OP_PROGRAM) {
        tear = tear_program(sim, &rng, offset, sim->before.wanted, len);
        mark_programmed(sim, offset, len, 1);   /* ECC written or spoiled */
    } else {
        tear = tear_erase(sim, &rng, offset);
        mark_erased_units(sim, offset);
    }
    mark_torn_units(sim, offset, len, sim->before.data, sim->before.wanted);
    return tear;
}

bool nor_sim_retear(nor_sim *sim, unsigned choice)
{
    nor_sim_cut_info *cut = &sim->last_cut;
    if (!sim->have_last_cut || cut->tear == NOR_SIM_TEAR_NOTHING) {
        return false;
    }
    uint32_t unit = sim->device.program_unit;
    memcpy(sim->data + cut->offset, sim->before.data, cut->len);
    memcpy(sim->unit_programmed + cut->offset / unit, sim->before.programmed, cut->len / unit);
    memcpy(sim->unit_torn + cut->offset / unit, sim->before.torn, cut->len / unit);
    unsigned kept = sim->tear_choice;
    sim->tear_choice = choice;
    cut->tear = apply_tear(sim, cut->op_index, cut->op, cut->offset, cut->len);
    sim->tear_choice = kept;
    sim->powered = false;
    return true;
}

static bw_err sim_program(void *context, uint32_t offset, const void *buf, uint32_t len)
{
    nor_sim *sim = context;
    power_is_on_or_die(sim, "program");
    sim->stats.programs++;
    trace_op(sim, NOR_SIM_OP_PROGRAM, offset, buf, len);
    bw_err injected;
    uint64_t index = begin_op(sim, &injected);
    bw_err err = check_program(sim, offset, buf, len);
    if (sim->cut_armed && sim->cut_op == index) {
        nor_sim_tear tear = NOR_SIM_TEAR_NOTHING;
        if (err == BW_OK) {
            keep_before_cut(sim, offset, len, buf);
            tear = apply_tear(sim, index, NOR_SIM_OP_PROGRAM, offset, len);
        }
        cut_power(sim, index, NOR_SIM_OP_PROGRAM, offset, len, tear);
    }
    if (injected != BW_OK) {
        return injected;
    }
    if (err == BW_OK && len != 0) {
        memcpy(sim->data + offset, buf, len);   /* no 0->1: the result is the data */
        mark_programmed(sim, offset, len, 1);
    }
    return err;
}

static bw_err sim_erase(void *context, uint32_t offset)
{
    nor_sim *sim = context;
    power_is_on_or_die(sim, "erase");
    sim->stats.erases++;
    trace_op(sim, NOR_SIM_OP_ERASE, offset, NULL, sim->device.sector_size);
    bw_err injected;
    uint64_t index = begin_op(sim, &injected);
    bw_err err = check_erase(sim, offset);
    if (sim->cut_armed && sim->cut_op == index) {
        nor_sim_tear tear = NOR_SIM_TEAR_NOTHING;
        if (err == BW_OK) {
            keep_before_cut(sim, offset, sim->device.sector_size, NULL);
            tear = apply_tear(sim, index, NOR_SIM_OP_ERASE, offset, sim->device.sector_size);
        }
        cut_power(sim, index, NOR_SIM_OP_ERASE, offset, sim->device.sector_size, tear);
    }
    if (injected != BW_OK) {
        return injected;
    }
    if (err == BW_OK) {
        memset(sim->data + offset, 0xFF, sim->device.sector_size);
        mark_programmed(sim, offset, sim->device.sector_size, 0);
        clear_torn_units(sim, offset, sim->device.sector_size);
        sim->erase_counts[offset / sim->device.sector_size]++;
    }
    return err;
}

nor_sim *nor_sim_create(const nor_sim_config *config)
{
    if (config == NULL || !is_pow2(config->sector_size) || !is_pow2(config->program_unit) ||
        config->program_unit > config->sector_size || config->program_unit > 256 || config->size == 0 ||
        config->size % config->sector_size != 0) {
        return NULL;
    }
    nor_sim *sim = calloc(1, sizeof *sim);
    if (sim == NULL) {
        return NULL;
    }
    sim->data = malloc(config->size);
    sim->erase_counts = calloc(config->size / config->sector_size, sizeof *sim->erase_counts);
    sim->program_once = config->program_once;
    sim->unit_programmed = calloc(config->size / config->program_unit, 1);
    sim->unit_torn = calloc(config->size / config->program_unit, 1);
    if (sim->data == NULL || sim->erase_counts == NULL || sim->unit_programmed == NULL
        || sim->unit_torn == NULL) {
        nor_sim_destroy(sim);
        return NULL;
    }
    memset(sim->data, 0xFF, config->size);
    sim->device = (bw_flash_device){
        .context = sim,
        .size = config->size,
        .sector_size = config->sector_size,
        .program_unit = config->program_unit,
        .read = sim_read,
        .program = sim_program,
        .erase = sim_erase,
    };
    sim->seed = config->seed;
    nor_sim_trace_reset(sim);
    sim->powered = true;
    return sim;
}

void nor_sim_destroy(nor_sim *sim)
{
    if (sim != NULL) {
        free(sim->data);
        free(sim->erase_counts);
        free(sim->unit_programmed);
        free(sim->unit_torn);
        free(sim->before.data);
        free(sim->before.wanted);
        free(sim->before.programmed);
        free(sim->before.torn);
        free(sim);
    }
}

const bw_flash_device *nor_sim_device(nor_sim *sim)
{
    return &sim->device;
}

uint8_t *nor_sim_raw(nor_sim *sim)
{
    return sim->data;
}

uint32_t nor_sim_size(const nor_sim *sim)
{
    return sim->device.size;
}

void nor_sim_set_cut_handler(nor_sim *sim, jmp_buf *handler)
{
    sim->cut_handler = handler;
}

void nor_sim_arm_cut(nor_sim *sim, uint64_t n)
{
    power_is_on_or_die(sim, "nor_sim_arm_cut");
    sim->cut_armed = true;
    sim->cut_op = sim->ops + n;
}

bool nor_sim_disarm_cut(nor_sim *sim)
{
    bool was_armed = sim->cut_armed;
    sim->cut_armed = false;
    return was_armed;
}

void nor_sim_power_on(nor_sim *sim)
{
    sim->powered = true;
    sim->cut_armed = false;
}

bool nor_sim_powered(const nor_sim *sim)
{
    return sim->powered;
}

bool nor_sim_last_cut(const nor_sim *sim, nor_sim_cut_info *info)
{
    if (sim->have_last_cut && info != NULL) {
        *info = sim->last_cut;
    }
    return sim->have_last_cut;
}

void nor_sim_set_seed(nor_sim *sim, uint64_t seed)
{
    sim->seed = seed;
}

uint64_t nor_sim_ops(const nor_sim *sim)
{
    return sim->ops;
}

void nor_sim_trace_reset(nor_sim *sim)
{
    sim->trace = 0xCBF29CE484222325ull;
}

uint64_t nor_sim_trace(const nor_sim *sim)
{
    return sim->trace;
}

nor_sim_stats nor_sim_get_stats(const nor_sim *sim)
{
    return sim->stats;
}

uint64_t nor_sim_erase_count(const nor_sim *sim, uint32_t offset)
{
    if (offset >= sim->device.size) {
        return 0;
    }
    return sim->erase_counts[offset / sim->device.sector_size];
}

void nor_sim_arm_error(nor_sim *sim, uint64_t n, bw_err err)
{
    sim->error_armed = err != BW_OK;
    sim->error_op = sim->ops + n;
    sim->error = err;
}

void nor_sim_set_read_error(nor_sim *sim, bw_err err)
{
    sim->read_error = err;
}

void nor_sim_set_tear(nor_sim *sim, unsigned choice)
{
    sim->tear_choice = choice;
}

void nor_sim_arm_read_error(nor_sim *sim, uint64_t n, bw_err err)
{
    sim->read_error_armed = err != BW_OK;
    sim->read_error_at = sim->stats.reads + n;
    sim->read_error_once = err;
}

struct nor_sim_snapshot {
    uint8_t *data, *programmed, *torn;
};

nor_sim_snapshot *nor_sim_snapshot_take(const nor_sim *sim)
{
    uint32_t units = sim->device.size / sim->device.program_unit;
    nor_sim_snapshot *snap = malloc(sizeof *snap);
    if (snap == NULL) {
        return NULL;
    }
    snap->data = malloc(sim->device.size);
    snap->programmed = malloc(units);
    snap->torn = malloc(units);
    if (snap->data == NULL || snap->programmed == NULL || snap->torn == NULL) {
        nor_sim_snapshot_free(snap);
        return NULL;
    }
    memcpy(snap->data, sim->data, sim->device.size);
    memcpy(snap->programmed, sim->unit_programmed, units);
    memcpy(snap->torn, sim->unit_torn, units);
    return snap;
}

void nor_sim_snapshot_restore(nor_sim *sim, const nor_sim_snapshot *snap)
{
    uint32_t units = sim->device.size / sim->device.program_unit;
    memcpy(sim->data, snap->data, sim->device.size);
    memcpy(sim->unit_programmed, snap->programmed, units);
    memcpy(sim->unit_torn, snap->torn, units);
    sim->powered = true;
    sim->cut_armed = false;
}

void nor_sim_snapshot_free(nor_sim_snapshot *snap)
{
    if (snap != NULL) {
        free(snap->data);
        free(snap->programmed);
        free(snap->torn);
        free(snap);
    }
}
