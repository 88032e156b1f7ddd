/*
 * The NOR model itself (nor_sim.h), for three geometries (8 KiB/16 B as the
 * U585 and the QEMU board, 4 KiB/8 B, 128 KiB/32 B). Promises checked: the NOR
 * rules give a real driver's errors and write nothing when they refuse; a
 * torn program only does some of the 1->0 transitions asked for; a torn erase
 * touches only its sector, in one of the documented patterns; every program
 * and erase call is one operation and the cut hits exactly the armed one;
 * torn outcomes are a function of the seed; a cut after power-on (during
 * recovery) works; running on after a cut aborts.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nor_sim.h"

typedef struct geometry {
    uint32_t size, sector, unit;
} geometry;

static const geometry geometries[] = {
    { 64u * 1024u, 8u * 1024u, 16u },
    { 32u * 1024u, 4u * 1024u, 8u },
    { 512u * 1024u, 128u * 1024u, 32u },
};
#define GEOMETRY_COUNT (sizeof geometries / sizeof geometries[0])

static nor_sim *make_sim(const geometry *g, uint64_t seed)
{
    nor_sim *sim = nor_sim_create(&(nor_sim_config){
        .size = g->size, .sector_size = g->sector, .program_unit = g->unit, .seed = seed });
    assert_non_null(sim);
    return sim;
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static void test_create_rejects_bad_geometry(void **state)
{
    (void)state;
    assert_null(nor_sim_create(NULL));
    assert_null(nor_sim_create(&(nor_sim_config){ 8192, 3000, 16, 0, false }));   /* sector not 2^n */
    assert_null(nor_sim_create(&(nor_sim_config){ 8192, 4096, 12, 0, false }));   /* unit not 2^n */
    assert_null(nor_sim_create(&(nor_sim_config){ 8192, 16, 32, 0, false }));     /* unit > sector */
    assert_null(nor_sim_create(&(nor_sim_config){ 0, 4096, 16, 0, false }));      /* empty */
    assert_null(nor_sim_create(&(nor_sim_config){ 6000, 4096, 16, 0, false }));   /* partial sector */
    nor_sim_destroy(NULL);
}

static void test_nor_rules(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        nor_sim *sim = make_sim(g, 1);
        const bw_flash_device *dev = nor_sim_device(sim);
        uint8_t *raw = nor_sim_raw(sim);
        uint8_t buf[64], back[64];

        assert_int_equal(dev->size, g->size);
        assert_int_equal(dev->sector_size, g->sector);
        assert_int_equal(dev->program_unit, g->unit);
        assert_int_equal(nor_sim_size(sim), g->size);
        for (uint32_t i = 0; i < g->size; i++) {
            assert_int_equal(raw[i], 0xFF);   /* fresh = erased */
        }

        /* Alignment of offset and of length. */
        memset(buf, 0x00, sizeof buf);
        assert_int_equal(dev->program(dev->context, 1, buf, g->unit), BW_E_ALIGN);
        assert_int_equal(dev->program(dev->context, g->unit / 2, buf, g->unit), BW_E_ALIGN);
        assert_int_equal(dev->program(dev->context, 0, buf, g->unit - 1), BW_E_ALIGN);
        assert_int_equal(dev->program(dev->context, 0, buf, g->unit + 1), BW_E_ALIGN);
        assert_int_equal(dev->erase(dev->context, g->unit), BW_E_ALIGN);
        assert_int_equal(dev->erase(dev->context, g->sector / 2), BW_E_ALIGN);
        /* Out of the device. */
        assert_int_equal(dev->program(dev->context, g->size, buf, g->unit), BW_E_SIZE);
        assert_int_equal(dev->program(dev->context, g->size - g->unit, buf, 2 * g->unit), BW_E_SIZE);
        assert_int_equal(dev->program(dev->context, 0xFFFFFFF0u, buf, 32), BW_E_SIZE);
        assert_int_equal(dev->erase(dev->context, g->size), BW_E_SIZE);
        assert_int_equal(dev->read(dev->context, g->size - 4, back, 8), BW_E_SIZE);
        assert_int_equal(dev->read(dev->context, 0xFFFFFFFCu, back, 8), BW_E_SIZE);
        for (uint32_t i = 0; i < g->size; i++) {
            assert_int_equal(raw[i], 0xFF);   /* refused calls wrote nothing */
        }

        /* Program clears bits; clearing more later is fine; 0->1 is refused whole. */
        uint32_t off = g->sector + g->unit;
        for (uint32_t i = 0; i < 2 * g->unit; i++) {
            buf[i] = (uint8_t)(0xF0u | i);
        }
        assert_int_equal(dev->program(dev->context, off, buf, 2 * g->unit), BW_OK);
        assert_int_equal(dev->read(dev->context, off, back, 2 * g->unit), BW_OK);
        assert_memory_equal(back, buf, 2 * g->unit);
        for (uint32_t i = 0; i < 2 * g->unit; i++) {
            buf[i] = (uint8_t)(buf[i] & 0x3Cu);
        }
        assert_int_equal(dev->program(dev->context, off, buf, 2 * g->unit), BW_OK);
        assert_memory_equal(raw + off, buf, 2 * g->unit);
        uint8_t again[64];
        memcpy(again, buf, sizeof again);
        again[2 * g->unit - 1] |= 0x80u;   /* one 0->1 bit, in the last unit */
        assert_int_equal(dev->program(dev->context, off, again, 2 * g->unit), BW_E_INVALID);
        assert_memory_equal(raw + off, buf, 2 * g->unit);   /* not even the first unit */
        assert_int_equal(dev->program(dev->context, off, buf, 0), BW_OK);

        /* Erase: the whole sector to 0xFF and nothing else. */
        raw[g->sector - 1] = 0x11;
        raw[2 * g->sector] = 0x22;
        assert_int_equal(dev->erase(dev->context, g->sector), BW_OK);
        for (uint32_t i = g->sector; i < 2 * g->sector; i++) {
            assert_int_equal(raw[i], 0xFF);
        }
        assert_int_equal(raw[g->sector - 1], 0x11);
        assert_int_equal(raw[2 * g->sector], 0x22);
        assert_int_equal(nor_sim_erase_count(sim, g->sector + 5), 1);
        assert_int_equal(nor_sim_erase_count(sim, 0), 0);
        nor_sim_destroy(sim);
    }
}

static void test_op_counting(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        nor_sim *sim = make_sim(g, 2);
        const bw_flash_device *dev = nor_sim_device(sim);
        uint8_t buf[64];
        memset(buf, 0, sizeof buf);

        assert_int_equal(nor_sim_ops(sim), 0);
        assert_int_equal(dev->read(dev->context, 0, buf, 16), BW_OK);
        assert_int_equal(nor_sim_ops(sim), 0);   /* reads are not operations */
        assert_int_equal(dev->program(dev->context, 0, buf, g->unit), BW_OK);
        assert_int_equal(dev->program(dev->context, 1, buf, g->unit), BW_E_ALIGN);
        assert_int_equal(dev->erase(dev->context, 0), BW_OK);
        assert_int_equal(dev->erase(dev->context, 3), BW_E_ALIGN);
        assert_int_equal(dev->program(dev->context, 0, buf, 4 * g->unit), BW_OK);   /* one call */
        assert_int_equal(nor_sim_ops(sim), 5);
        nor_sim_stats st = nor_sim_get_stats(sim);
        assert_int_equal(st.programs, 3);
        assert_int_equal(st.erases, 2);
        assert_int_equal(st.reads, 1);
        assert_int_equal(st.cuts, 0);
        assert_false(nor_sim_last_cut(sim, NULL));

        /* A cut armed beyond the workload never fires. */
        nor_sim_arm_cut(sim, 10);
        assert_int_equal(dev->erase(dev->context, 0), BW_OK);
        assert_true(nor_sim_disarm_cut(sim));
        assert_false(nor_sim_disarm_cut(sim));
        nor_sim_destroy(sim);
    }
}

/* Runs `count` erase+program pairs on sector 0 and returns how many calls
 * completed before the cut (the cut op is not counted as completed). */
static uint32_t run_until_cut(nor_sim *sim, jmp_buf *env, volatile uint32_t *done, uint32_t count)
{
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t zero[32];
    memset(zero, 0, sizeof zero);
    *done = 0;
    if (setjmp(*env) == 0) {
        for (uint32_t i = 0; i < count; i++) {
            assert_int_equal(dev->erase(dev->context, 0), BW_OK);
            (*done)++;
            assert_int_equal(dev->program(dev->context, 0, zero, dev->program_unit), BW_OK);
            (*done)++;
        }
    }
    return *done;
}

static void test_cut_hits_the_armed_operation(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        nor_sim *sim = make_sim(&geometries[gi], 3);
        jmp_buf env;
        volatile uint32_t done;
        nor_sim_set_cut_handler(sim, &env);
        for (uint32_t n = 0; n < 6; n++) {
            uint64_t before = nor_sim_ops(sim);
            nor_sim_arm_cut(sim, n);
            assert_int_equal(run_until_cut(sim, &env, &done, 10), n);
            assert_false(nor_sim_powered(sim));
            nor_sim_cut_info info;
            assert_true(nor_sim_last_cut(sim, &info));
            assert_int_equal(info.op_index, before + n);
            assert_int_equal(info.op, n % 2 == 0 ? NOR_SIM_OP_ERASE : NOR_SIM_OP_PROGRAM);
            assert_int_equal(info.offset, 0);
            assert_int_equal(nor_sim_ops(sim), before + n + 1);   /* the cut op counts */
            assert_false(nor_sim_disarm_cut(sim));                /* it fired */
            nor_sim_power_on(sim);
            assert_true(nor_sim_powered(sim));
        }
        assert_int_equal(nor_sim_get_stats(sim).cuts, 6);

        /* A second cut during recovery, armed after power-on. */
        nor_sim_arm_cut(sim, 1);
        assert_int_equal(run_until_cut(sim, &env, &done, 10), 1);
        nor_sim_power_on(sim);
        nor_sim_arm_cut(sim, 2);
        assert_int_equal(run_until_cut(sim, &env, &done, 10), 2);
        nor_sim_power_on(sim);
        assert_int_equal(run_until_cut(sim, &env, &done, 3), 6);   /* power-on disarmed */
        assert_int_equal(nor_sim_get_stats(sim).cuts, 8);
        nor_sim_destroy(sim);
    }
}

/* Runs one program (or erase) with power lost during it; returns powered on
 * again. The setjmp sits in this small frame so that no caller local is live
 * across the longjmp. */
static void program_cut(nor_sim *sim, uint32_t off, const uint8_t *data, uint32_t len)
{
    const bw_flash_device *dev = nor_sim_device(sim);
    jmp_buf env;
    nor_sim_set_cut_handler(sim, &env);
    nor_sim_arm_cut(sim, 0);
    if (setjmp(env) == 0) {
        (void)dev->program(dev->context, off, data, len);
        fail_msg("the armed program returned");
    }
    nor_sim_set_cut_handler(sim, NULL);
    nor_sim_power_on(sim);
}

static void erase_cut(nor_sim *sim, uint32_t off)
{
    const bw_flash_device *dev = nor_sim_device(sim);
    jmp_buf env;
    nor_sim_set_cut_handler(sim, &env);
    nor_sim_arm_cut(sim, 0);
    if (setjmp(env) == 0) {
        (void)dev->erase(dev->context, off);
        fail_msg("the armed erase returned");
    }
    nor_sim_set_cut_handler(sim, NULL);
    nor_sim_power_on(sim);
}

/* Fills a sector with arbitrary bytes (any mixture of 0s and 1s). */
static void scramble(nor_sim *sim, uint32_t sector_off, uint32_t *rng)
{
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t *raw = nor_sim_raw(sim);
    for (uint32_t i = 0; i < dev->sector_size; i++) {
        raw[sector_off + i] = (uint8_t)lcg(rng);
    }
}

static void test_torn_program_only_clears_requested_bits(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        nor_sim *sim = make_sim(g, 4);
        uint8_t *raw = nor_sim_raw(sim);
        uint8_t *before = malloc(g->size), *data = malloc(4 * g->unit);
        assert_non_null(before);
        assert_non_null(data);
        uint32_t rng = 99;
        unsigned seen[NOR_SIM_TEAR_ERASE_ALL + 1] = { 0 };

        for (int trial = 0; trial < 400; trial++) {
            uint32_t len = (1u + lcg(&rng) % 4u) * g->unit;
            uint32_t off = g->sector + (lcg(&rng) % (g->sector / g->unit - 4u)) * g->unit;
            scramble(sim, g->sector, &rng);
            for (uint32_t i = 0; i < len; i++) {
                data[i] = (uint8_t)(raw[off + i] & lcg(&rng));   /* valid: only clears */
            }
            memcpy(before, raw, g->size);
            program_cut(sim, off, data, len);
            nor_sim_cut_info info;
            assert_true(nor_sim_last_cut(sim, &info));
            assert_int_equal(info.op, NOR_SIM_OP_PROGRAM);
            assert_int_equal(info.len, len);
            seen[info.tear]++;
            for (uint32_t i = 0; i < g->size; i++) {
                if (i < off || i >= off + len) {
                    assert_int_equal(raw[i], before[i]);
                    continue;
                }
                uint8_t old = before[i], want = data[i - off], got = raw[i];
                assert_int_equal(got & (uint8_t)~old, 0);    /* no 0 -> 1 */
                assert_int_equal(want & (uint8_t)~got, 0);   /* kept 1s stay 1 */
                if (info.tear == NOR_SIM_TEAR_PROGRAM_NONE) {
                    assert_int_equal(got, old);
                } else if (info.tear == NOR_SIM_TEAR_PROGRAM_ALL) {
                    assert_int_equal(got, want);
                }
            }
            if (info.tear == NOR_SIM_TEAR_PROGRAM_PREFIX) {
                /* Done transitions form a prefix in (byte, bit 0..7) order. */
                bool pending_seen = false;
                for (uint32_t bit = 0; bit < len * 8u; bit++) {
                    uint32_t i = off + bit / 8u;
                    uint8_t m = (uint8_t)(1u << (bit % 8u));
                    bool requested = (before[i] & m) && !(data[i - off] & m);
                    if (!requested) {
                        continue;
                    }
                    bool done = !(raw[i] & m);
                    assert_false(done && pending_seen);
                    pending_seen = pending_seen || !done;
                }
            }
        }
        assert_true(seen[NOR_SIM_TEAR_PROGRAM_NONE] > 0);
        assert_true(seen[NOR_SIM_TEAR_PROGRAM_ALL] > 0);
        assert_true(seen[NOR_SIM_TEAR_PROGRAM_PREFIX] > 0);
        assert_true(seen[NOR_SIM_TEAR_PROGRAM_RANDOM] > 0);

        /* A cut during a request the driver would refuse writes nothing. */
        memcpy(before, raw, g->size);
        memset(data, 0xFF, g->unit);
        raw[0] = 0x00;
        before[0] = 0x00;
        program_cut(sim, 0, data, g->unit);   /* 0 -> 1 */
        nor_sim_cut_info info;
        assert_true(nor_sim_last_cut(sim, &info));
        assert_int_equal(info.tear, NOR_SIM_TEAR_NOTHING);
        assert_memory_equal(raw, before, g->size);
        free(before);
        free(data);
        nor_sim_destroy(sim);
    }
}

static void test_torn_erase_stays_in_its_sector(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        nor_sim *sim = make_sim(g, 5);
        uint8_t *raw = nor_sim_raw(sim);
        uint8_t *before = malloc(g->size);
        assert_non_null(before);
        uint32_t rng = 7;
        unsigned seen[NOR_SIM_TEAR_ERASE_ALL + 1] = { 0 };
        unsigned partial_prefixes = 0;

        for (int trial = 0; trial < 120; trial++) {
            for (uint32_t i = 0; i < g->size; i++) {
                raw[i] = (uint8_t)(lcg(&rng) & 0x7Fu);   /* no 0xFF bytes: prefixes are visible */
            }
            memcpy(before, raw, g->size);
            uint32_t sector = g->sector * (lcg(&rng) % (g->size / g->sector));
            erase_cut(sim, sector);
            nor_sim_cut_info info;
            assert_true(nor_sim_last_cut(sim, &info));
            assert_int_equal(info.op, NOR_SIM_OP_ERASE);
            assert_int_equal(info.offset, sector);
            assert_int_equal(info.len, g->sector);
            seen[info.tear]++;
            assert_memory_equal(raw, before, sector);
            assert_memory_equal(raw + sector + g->sector, before + sector + g->sector,
                                g->size - sector - g->sector);
            const uint8_t *s = raw + sector;
            const uint8_t *old = before + sector;
            if (info.tear == NOR_SIM_TEAR_ERASE_ALL) {
                for (uint32_t i = 0; i < g->sector; i++) {
                    assert_int_equal(s[i], 0xFF);
                }
            } else if (info.tear == NOR_SIM_TEAR_ERASE_PREFIX) {
                uint32_t k = 0;
                while (k < g->sector && s[k] == 0xFF) {
                    k++;
                }
                assert_memory_equal(s + k, old + k, g->sector - k);
                partial_prefixes += k > 0 && k < g->sector;
            } else {
                assert_int_equal(info.tear, NOR_SIM_TEAR_ERASE_RANDOM);
                uint32_t differ = 0;
                for (uint32_t i = 0; i < g->sector; i++) {
                    differ += s[i] != old[i];
                }
                assert_true(differ > g->sector / 2);   /* really scrambled */
            }
        }
        assert_true(seen[NOR_SIM_TEAR_ERASE_PREFIX] > 0);
        assert_true(seen[NOR_SIM_TEAR_ERASE_RANDOM] > 0);
        assert_true(seen[NOR_SIM_TEAR_ERASE_ALL] > 0);
        assert_true(partial_prefixes > 0);
        assert_int_equal(nor_sim_erase_count(sim, 0) + nor_sim_erase_count(sim, g->size - 1), 0);

        /* A cut during a misaligned erase writes nothing. */
        memcpy(before, raw, g->size);
        erase_cut(sim, g->unit);   /* misaligned */
        nor_sim_cut_info info;
        assert_true(nor_sim_last_cut(sim, &info));
        assert_int_equal(info.tear, NOR_SIM_TEAR_NOTHING);
        assert_memory_equal(raw, before, g->size);
        free(before);
        nor_sim_destroy(sim);
    }
}

/* One fixed workload with a cut at op `cut`; returns a copy of the contents. */
static uint8_t *torn_image(const geometry *g, uint64_t seed, uint32_t cut)
{
    nor_sim *sim = make_sim(g, seed);
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t data[128];
    for (uint32_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 37u);
    }
    jmp_buf env;
    nor_sim_set_cut_handler(sim, &env);
    nor_sim_arm_cut(sim, cut);
    if (setjmp(env) == 0) {
        for (uint32_t s = 0; s < 3; s++) {
            (void)dev->program(dev->context, s * g->sector, data, 4 * g->unit);
            (void)dev->erase(dev->context, s * g->sector);
        }
        fail_msg("no cut");
    }
    uint8_t *copy = malloc(g->size);
    assert_non_null(copy);
    memcpy(copy, nor_sim_raw(sim), g->size);
    nor_sim_destroy(sim);
    return copy;
}

static void test_deterministic_for_a_seed(void **state)
{
    (void)state;
    for (size_t gi = 0; gi < GEOMETRY_COUNT; gi++) {
        const geometry *g = &geometries[gi];
        bool some_seed_differs = false;
        for (uint32_t cut = 0; cut < 6; cut++) {
            for (uint64_t seed = 1; seed < 6; seed++) {
                uint8_t *a = torn_image(g, seed, cut);
                uint8_t *b = torn_image(g, seed, cut);
                assert_memory_equal(a, b, g->size);
                uint8_t *c = torn_image(g, seed + 1000, cut);
                some_seed_differs = some_seed_differs || memcmp(a, c, g->size) != 0;
                free(a);
                free(b);
                free(c);
            }
        }
        assert_true(some_seed_differs);
    }
}

static void test_error_injection(void **state)
{
    (void)state;
    nor_sim *sim = make_sim(&geometries[0], 6);
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t buf[16], back[16];
    memset(buf, 0, sizeof buf);
    nor_sim_arm_error(sim, 1, BW_E_IO);
    assert_int_equal(dev->erase(dev->context, 0), BW_OK);
    assert_int_equal(dev->program(dev->context, 0, buf, 16), BW_E_IO);
    assert_int_equal(nor_sim_raw(sim)[0], 0xFF);   /* nothing written */
    assert_int_equal(dev->program(dev->context, 0, buf, 16), BW_OK);
    assert_int_equal(nor_sim_ops(sim), 3);
    nor_sim_set_read_error(sim, BW_E_IO);
    memset(back, 0x5A, sizeof back);
    assert_int_equal(dev->read(dev->context, 0, back, 16), BW_E_IO);
    assert_int_equal(back[0], 0x5A);
    nor_sim_set_read_error(sim, BW_OK);
    assert_int_equal(dev->read(dev->context, 0, back, 16), BW_OK);
    assert_memory_equal(back, buf, 16);
    nor_sim_destroy(sim);
}

/* Runs fn in a child process; true if it died of SIGABRT. */
static bool aborts(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)freopen("/dev/null", "w", stderr);
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void read_after_cut(void)
{
    nor_sim *sim = make_sim(&geometries[0], 7);
    const bw_flash_device *dev = nor_sim_device(sim);
    jmp_buf env;
    uint8_t b;
    nor_sim_set_cut_handler(sim, &env);
    nor_sim_arm_cut(sim, 0);
    if (setjmp(env) == 0) {
        (void)dev->erase(dev->context, 0);
    }
    (void)dev->read(dev->context, 0, &b, 1);   /* test bug: power is off */
}

static void cut_without_handler(void)
{
    nor_sim *sim = make_sim(&geometries[0], 8);
    const bw_flash_device *dev = nor_sim_device(sim);
    nor_sim_arm_cut(sim, 0);
    (void)dev->erase(dev->context, 0);
}

static void normal_use(void)
{
    nor_sim *sim = make_sim(&geometries[0], 9);
    const bw_flash_device *dev = nor_sim_device(sim);
    (void)dev->erase(dev->context, 0);
    nor_sim_destroy(sim);
}

/* The trace names the operations asked for since its reset: equal for the
 * same requests, different for another byte, place or kind; reads and
 * snapshots leave it alone. */
static void test_trace(void **state)
{
    (void)state;
    nor_sim *sim = make_sim(&geometries[0], 6);
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t a[16], b[16], back[16];
    memset(a, 0x12, sizeof a);
    memcpy(b, a, sizeof b);
    b[15] = 0x13;
    uint64_t trace[4];
    for (int run = 0; run < 4; run++) {
        nor_sim_trace_reset(sim);
        assert_int_equal(dev->erase(dev->context, 0), BW_OK);
        assert_int_equal(dev->program(dev->context, run == 3 ? 16 : 0, run == 2 ? b : a, 16), BW_OK);
        assert_int_equal(dev->read(dev->context, 0, back, 16), BW_OK);
        nor_sim_snapshot *snap = nor_sim_snapshot_take(sim);
        nor_sim_snapshot_restore(sim, snap);
        nor_sim_snapshot_free(snap);
        trace[run] = nor_sim_trace(sim);
    }
    assert_true(trace[0] == trace[1]);
    assert_true(trace[2] != trace[0]);   /* one byte differs */
    assert_true(trace[3] != trace[0]);   /* another place */
    assert_true(trace[3] != trace[2]);
    nor_sim_trace_reset(sim);
    uint64_t empty = nor_sim_trace(sim);
    assert_int_equal(dev->erase(dev->context, 0), BW_OK);
    assert_true(nor_sim_trace(sim) != empty);
    nor_sim_destroy(sim);
}

static void test_running_past_a_cut_aborts(void **state)
{
    (void)state;
    assert_true(aborts(read_after_cut));
    assert_true(aborts(cut_without_handler));
    assert_false(aborts(normal_use));
}

/* ECC flash: a unit a cut left neither old nor as asked reads BW_E_TORN
 * (counted) until its sector is erased; other units read normally. The
 * forced tears: all but one transition, and the end before the start. */
static void test_ecc_torn_units_and_forced_tears(void **state)
{
    (void)state;
    nor_sim *sim = nor_sim_create(&(nor_sim_config){
        .size = 64u * 1024u, .sector_size = 8192u, .program_unit = 16u, .seed = 3, .program_once = true });
    assert_non_null(sim);
    const bw_flash_device *dev = nor_sim_device(sim);
    uint8_t zeros[32], back[32];
    memset(zeros, 0, sizeof zeros);

    nor_sim_set_tear(sim, 5);   /* all but one */
    program_cut(sim, 0, zeros, 32);
    nor_sim_cut_info info;
    assert_true(nor_sim_last_cut(sim, &info));
    assert_int_equal(info.tear, NOR_SIM_TEAR_PROGRAM_ALL_BUT_ONE);
    unsigned ones = 0;
    for (unsigned i = 0; i < 32; i++) {
        ones += (unsigned)__builtin_popcount(nor_sim_raw(sim)[i]);
    }
    assert_int_equal(ones, 1);
    /* exactly one of the two units is torn: it fails, the other reads */
    bw_err first = dev->read(dev->context, 0, back, 16);
    bw_err second = dev->read(dev->context, 16, back, 16);
    assert_true((first == BW_E_TORN) != (second == BW_E_TORN));
    assert_int_equal(dev->read(dev->context, 0, back, 32), BW_E_TORN);
    assert_int_equal(nor_sim_get_stats(sim).ecc_errors, 2u);
    assert_int_equal(dev->read(dev->context, 32, back, 16), BW_OK);

    /* retear as "the end first": bits from some position to the end done */
    nor_sim_set_cut_handler(sim, NULL);
    assert_true(nor_sim_retear(sim, 6));
    nor_sim_power_on(sim);
    assert_true(nor_sim_last_cut(sim, &info));
    assert_int_equal(info.tear, NOR_SIM_TEAR_PROGRAM_SUFFIX);
    const uint8_t *raw = nor_sim_raw(sim);
    unsigned i = 0;
    while (i < 32 && raw[i] == 0xFFu) {
        i++;
    }
    for (unsigned k = i + 1; k < 32; k++) {
        assert_int_equal(raw[k], 0);   /* a suffix: once started, done to the end */
    }

    /* an erase clears the ECC error; a clean program reads back */
    assert_int_equal(dev->erase(dev->context, 0), BW_OK);
    assert_int_equal(dev->read(dev->context, 0, back, 32), BW_OK);
    assert_int_equal(dev->program(dev->context, 0, zeros, 32), BW_OK);
    assert_int_equal(dev->read(dev->context, 0, back, 32), BW_OK);

    /* a torn erase: random bytes make torn units; a snapshot keeps them */
    nor_sim_set_tear(sim, 2);   /* erase pattern (2-1)%3 = random */
    erase_cut(sim, 8192);
    assert_int_equal(dev->read(dev->context, 8192, back, 16), BW_E_TORN);
    nor_sim_snapshot *snap = nor_sim_snapshot_take(sim);
    nor_sim_raw_written(sim);   /* raw writes are clean data */
    assert_int_equal(dev->read(dev->context, 8192, back, 16), BW_OK);
    nor_sim_snapshot_restore(sim, snap);
    assert_int_equal(dev->read(dev->context, 8192, back, 16), BW_E_TORN);
    nor_sim_snapshot_free(snap);

    /* one read fails when armed, the next works */
    nor_sim_arm_read_error(sim, 1, BW_E_IO);
    assert_int_equal(dev->read(dev->context, 32, back, 16), BW_OK);
    assert_int_equal(dev->read(dev->context, 32, back, 16), BW_E_IO);
    assert_int_equal(dev->read(dev->context, 32, back, 16), BW_OK);
    nor_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_geometry),
        cmocka_unit_test(test_nor_rules),
        cmocka_unit_test(test_op_counting),
        cmocka_unit_test(test_cut_hits_the_armed_operation),
        cmocka_unit_test(test_torn_program_only_clears_requested_bits),
        cmocka_unit_test(test_torn_erase_stays_in_its_sector),
        cmocka_unit_test(test_deterministic_for_a_seed),
        cmocka_unit_test(test_error_injection),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_running_past_a_cut_aborts),
        cmocka_unit_test(test_ecc_torn_units_and_forced_tears),
    };
    return cmocka_run_group_tests_name("sim.nor_model", tests, NULL, NULL);
}
