/*
 * The crash record format (bw_crash_record.h): sealing and checking, names,
 * the meaning of the Armv8-M fault status bits, and classification.
 * Shared by the kernel and the host CLI; no state, no I/O.
 */
#include <stddef.h>
#include <string.h>

#include "bw_bytes.h"
#include "bw_crash_record.h"
#include "bw_identity.h"

/* The struct is the wire format: same offsets on every build (docs/SPEC.md). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crash records are little-endian structs: add byte swapping for this host"
#endif
_Static_assert(sizeof(bw_crash_record) == BW_CRASH_RECORD_SIZE, "record size");
_Static_assert(offsetof(bw_crash_record, sequence) == 8, "layout");
_Static_assert(offsetof(bw_crash_record, app_exception) == 16, "layout");
_Static_assert(offsetof(bw_crash_record, r) == 20, "layout");
_Static_assert(offsetof(bw_crash_record, sp) == 72, "layout");
_Static_assert(offsetof(bw_crash_record, exc_return) == 88, "layout");
_Static_assert(offsetof(bw_crash_record, masks_ns) == 112, "layout");
_Static_assert(offsetof(bw_crash_record, cfsr) == 116, "layout");
_Static_assert(offsetof(bw_crash_record, fault_address) == 144, "layout");
_Static_assert(offsetof(bw_crash_record, uptime_us) == 152, "layout");
_Static_assert(offsetof(bw_crash_record, stack_base) == 176, "layout");
_Static_assert(offsetof(bw_crash_record, stack) == 184, "layout");
_Static_assert(offsetof(bw_crash_record, crc32) == BW_CRASH_RECORD_SIZE - 4, "layout");

#define CRC_COVERED (offsetof(bw_crash_record, crc32))

void bw_crash_record_seal(bw_crash_record *record)
{
    record->magic = BW_CRASH_RECORD_MAGIC;
    record->version = BW_CRASH_RECORD_VERSION;
    record->size = BW_CRASH_RECORD_SIZE;
    record->crc32 = bw_crc32((const uint8_t *)record, CRC_COVERED);
}

bw_err bw_crash_record_check(const void *bytes, size_t len, bw_crash_record *out)
{
    if (len != BW_CRASH_RECORD_SIZE) {
        return BW_E_SIZE;
    }
    bw_crash_record r;
    memcpy(&r, bytes, sizeof r);
    if (r.magic != BW_CRASH_RECORD_MAGIC) {
        return BW_E_INVALID;
    }
    if (r.version != BW_CRASH_RECORD_VERSION || r.size != BW_CRASH_RECORD_SIZE) {
        return BW_E_VERSION;
    }
    if (r.crc32 != bw_crc32((const uint8_t *)&r, CRC_COVERED)) {
        return BW_E_IO;
    }
    if (r.stack_len > BW_CRASH_STACK_CAPACITY || r.crash_class >= BW_CRASH_CLASS_COUNT) {
        return BW_E_INVALID;
    }
    *out = r;
    return BW_OK;
}

const char *bw_crash_class_name(uint32_t crash_class)
{
    static const char *const names[BW_CRASH_CLASS_COUNT] = {
        [BW_CRASH_CLASS_UNKNOWN] = "unknown",
        [BW_CRASH_CLASS_INVALID_ACCESS] = "invalid-access",
        [BW_CRASH_CLASS_SECURE_ACCESS] = "secure-access",
        [BW_CRASH_CLASS_BUS_BLOCKED] = "bus-blocked",
        [BW_CRASH_CLASS_RESERVED_PERIPHERAL] = "reserved-peripheral",
        [BW_CRASH_CLASS_UNDEFINED_INSTRUCTION] = "undefined-instruction",
        [BW_CRASH_CLASS_INVALID_STATE] = "invalid-state",
        [BW_CRASH_CLASS_USAGE_FAULT] = "usage-fault",
        [BW_CRASH_CLASS_STACK_OVERFLOW] = "stack-overflow",
        [BW_CRASH_CLASS_RETURNED_FROM_MAIN] = "returned-from-main",
        [BW_CRASH_CLASS_UNHANDLED_INTERRUPT] = "unhandled-interrupt",
        [BW_CRASH_CLASS_HANG] = "hang",
        [BW_CRASH_CLASS_BAD_KERNEL_CALL] = "bad-kernel-call",
        [BW_CRASH_CLASS_KERNEL_RESET] = "kernel-reset",
    };
    return crash_class < BW_CRASH_CLASS_COUNT ? names[crash_class] : "invalid";
}

/* Writes head, then n in decimal unless n < 0, then tail into out, cut to fit. */
static void compose(char *out, size_t size, const char *head, int64_t n, const char *tail)
{
    if (size == 0) {
        return;
    }
    char digits[12];
    size_t count = 0;
    for (uint32_t v = (uint32_t)n; n >= 0 && (count == 0 || v != 0); v /= 10u) {
        digits[count++] = (char)('0' + v % 10u);
    }
    size_t used = 0;
    for (const char *p = head; *p != '\0' && used + 1 < size; p++) {
        out[used++] = *p;
    }
    while (count > 0 && used + 1 < size) {
        out[used++] = digits[--count];
    }
    for (const char *p = tail; *p != '\0' && used + 1 < size; p++) {
        out[used++] = *p;
    }
    out[used] = '\0';
}

void bw_crash_context_text(uint32_t app_exception, char *out, size_t size)
{
    static const char *const system[16] = {
        [0] = "thread mode", [2] = "NMI handler", [3] = "HardFault handler",
        [4] = "MemManage handler", [5] = "BusFault handler", [6] = "UsageFault handler",
        [7] = "SecureFault handler", [11] = "SVC handler", [12] = "DebugMonitor handler",
        [14] = "PendSV handler", [15] = "SysTick handler",
    };
    if (app_exception == 0x1FFu) {
        compose(out, size, "handler mode (frame lost)", -1, "");
    } else if (app_exception < 16u && system[app_exception] != NULL) {
        compose(out, size, system[app_exception], -1, "");
    } else if (app_exception >= 16u) {
        compose(out, size, "IRQ ", app_exception - 16u, " handler");
    } else {
        compose(out, size, "exception ", app_exception, " handler");
    }
}

const char *bw_crash_trigger_name(uint32_t trigger)
{
    switch (trigger) {
    case 1: return "chip reset";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "kernel call";
    case 15: return "supervision tick";
    default: return "exception";
    }
}

/* Bit numbers of the fault status registers. */
enum {
    MM_IACCVIOL = 0, MM_DACCVIOL = 1, MM_MUNSTKERR = 3, MM_MSTKERR = 4, MM_MLSPERR = 5,
    MM_MMARVALID = 7,
    BF_IBUSERR = 8, BF_PRECISERR = 9, BF_IMPRECISERR = 10, BF_UNSTKERR = 11, BF_STKERR = 12,
    BF_LSPERR = 13, BF_BFARVALID = 15,
    UF_UNDEFINSTR = 16, UF_INVSTATE = 17, UF_INVPC = 18, UF_NOCP = 19, UF_STKOF = 20,
    UF_UNALIGNED = 24, UF_DIVBYZERO = 25,
    HF_VECTTBL = 1, HF_FORCED = 30, HF_DEBUGEVT = 31,
    SF_INVEP = 0, SF_INVIS = 1, SF_INVER = 2, SF_AUVIOL = 3, SF_INVTRAN = 4, SF_LSPERR = 5,
    SF_SFARVALID = 6, SF_LSERR = 7,
};

#define BIT(n) (1u << (n))

static const bw_crash_status_bit cfsr_bits[] = {
    { "CFSR", MM_IACCVIOL, "IACCVIOL", "instruction fetch from a no-execute or MPU-denied address" },
    { "CFSR", MM_DACCVIOL, "DACCVIOL", "data access denied by the MPU" },
    { "CFSR", MM_MUNSTKERR, "MUNSTKERR", "MPU fault while unstacking on exception return" },
    { "CFSR", MM_MSTKERR, "MSTKERR", "MPU fault while stacking on exception entry" },
    { "CFSR", MM_MLSPERR, "MLSPERR", "MPU fault during lazy FP state preservation" },
    { "CFSR", MM_MMARVALID, "MMARVALID", "MMFAR holds the faulting address" },
    { "CFSR", BF_IBUSERR, "IBUSERR", "bus error on an instruction fetch" },
    { "CFSR", BF_PRECISERR, "PRECISERR", "precise bus error on a data access (blocked or unmapped)" },
    { "CFSR", BF_IMPRECISERR, "IMPRECISERR", "imprecise bus error on a data access (buffered write)" },
    { "CFSR", BF_UNSTKERR, "UNSTKERR", "bus error while unstacking on exception return" },
    { "CFSR", BF_STKERR, "STKERR", "bus error while stacking on exception entry (stack pointer left valid memory)" },
    { "CFSR", BF_LSPERR, "LSPERR", "bus error during lazy FP state preservation" },
    { "CFSR", BF_BFARVALID, "BFARVALID", "BFAR holds the faulting address" },
    { "CFSR", UF_UNDEFINSTR, "UNDEFINSTR", "undefined instruction" },
    { "CFSR", UF_INVSTATE, "INVSTATE", "invalid state: an instruction executed with the Thumb bit clear" },
    { "CFSR", UF_INVPC, "INVPC", "invalid EXC_RETURN value or exception return integrity check failed" },
    { "CFSR", UF_NOCP, "NOCP", "coprocessor (FPU) access while it is disabled or absent" },
    { "CFSR", UF_STKOF, "STKOF", "stack limit (MSPLIM/PSPLIM) violated: stack overflow" },
    { "CFSR", UF_UNALIGNED, "UNALIGNED", "unaligned access that the architecture does not allow" },
    { "CFSR", UF_DIVBYZERO, "DIVBYZERO", "integer division by zero (CCR.DIV_0_TRP set)" },
};

static const bw_crash_status_bit hfsr_bits[] = {
    { "HFSR", HF_VECTTBL, "VECTTBL", "bus error reading the vector table" },
    { "HFSR", HF_FORCED, "FORCED", "escalated: the fault's own handler was disabled or could not run" },
    { "HFSR", HF_DEBUGEVT, "DEBUGEVT", "debug event" },
};

static const bw_crash_status_bit sfsr_bits[] = {
    { "SFSR", SF_INVEP, "INVEP", "call into secure memory not at an SG entry point" },
    { "SFSR", SF_INVIS, "INVIS", "invalid integrity signature on exception return" },
    { "SFSR", SF_INVER, "INVER", "invalid exception return" },
    { "SFSR", SF_AUVIOL, "AUVIOL", "non-secure access to secure memory (attribution unit violation)" },
    { "SFSR", SF_INVTRAN, "INVTRAN", "branch into non-secure code not flagged as a transition" },
    { "SFSR", SF_LSPERR, "LSPERR", "SAU/IDAU violation during lazy FP state preservation" },
    { "SFSR", SF_SFARVALID, "SFARVALID", "SFAR holds the faulting address" },
    { "SFSR", SF_LSERR, "LSERR", "lazy state error" },
};

static void each_bit(const bw_crash_status_bit *table, size_t count, const char *reg, uint32_t value,
                     void (*fn)(void *, const bw_crash_status_bit *), void *context)
{
    for (size_t i = 0; i < count; i++) {
        if (value & BIT(table[i].bit)) {
            bw_crash_status_bit bit = table[i];
            bit.reg = reg;
            fn(context, &bit);
        }
    }
}

void bw_crash_status_bits(const bw_crash_record *record,
                          void (*fn)(void *context, const bw_crash_status_bit *bit),
                          void *context)
{
    size_t n_cfsr = sizeof cfsr_bits / sizeof cfsr_bits[0];
    each_bit(cfsr_bits, n_cfsr, "CFSR", record->cfsr, fn, context);
    each_bit(cfsr_bits, n_cfsr, "CFSR_NS", record->cfsr_ns, fn, context);
    each_bit(hfsr_bits, sizeof hfsr_bits / sizeof hfsr_bits[0], "HFSR", record->hfsr, fn, context);
    each_bit(sfsr_bits, sizeof sfsr_bits / sizeof sfsr_bits[0], "SFSR", record->sfsr, fn, context);
}

/* The SDK trap at pc, or 0. */
static uint32_t trap_of(const bw_crash_record *r)
{
    if (!(r->flags & BW_CRASH_FLAG_INSN_VALID) || !(r->cfsr_ns & (1u << 16))) {
        return 0;
    }
    uint32_t insn = r->insn & 0xFFFFu;
    return insn >= BW_CRASH_TRAP_RETURNED_FROM_MAIN && insn <= BW_CRASH_TRAP_MALLOC_FAILED ? insn : 0;
}

const char *bw_crash_trap_text(const bw_crash_record *r)
{
    switch (trap_of(r)) {
    case BW_CRASH_TRAP_RETURNED_FROM_MAIN: return "main returned (SDK UDF #0xB1)";
    case BW_CRASH_TRAP_UNHANDLED_INTERRUPT: return "interrupt without a handler (SDK UDF #0xB2)";
    case BW_CRASH_TRAP_ASSERT: return "FreeRTOS configASSERT failed (SDK UDF #0xB3)";
    case BW_CRASH_TRAP_STACK_OVERFLOW: return "FreeRTOS task stack overflow (SDK UDF #0xB4)";
    case BW_CRASH_TRAP_MALLOC_FAILED: return "FreeRTOS heap exhausted (SDK UDF #0xB5)";
    default: return NULL;
    }
}

const char *bw_crash_cause_text(const bw_crash_record *r)
{
    if (r->crash_class == BW_CRASH_CLASS_HANG) {
        return "interrupts masked too long (hang)";
    }
    if (r->crash_class == BW_CRASH_CLASS_KERNEL_RESET) {
        return "the chip reset while the app ran (counted at the next boot)";
    }
    if (r->crash_class == BW_CRASH_CLASS_BAD_KERNEL_CALL) {
        return "refused by the gate (forged return address or abandoned call)";
    }
    uint32_t sfsr = r->sfsr, cfsr = r->cfsr, ns = r->cfsr_ns;
    if (sfsr & BIT(SF_AUVIOL)) return "secure memory access (SecureFault AUVIOL)";
    if (sfsr & BIT(SF_INVEP)) return "jump to secure code (SecureFault INVEP)";
    if (sfsr & BIT(SF_INVTRAN)) return "branch to secure address (SecureFault INVTRAN)";
    if (sfsr & BIT(SF_INVIS)) return "invalid integrity signature (SecureFault INVIS)";
    if (sfsr & BIT(SF_INVER)) return "invalid exception return (SecureFault INVER)";
    if (sfsr & (BIT(SF_LSPERR) | BIT(SF_LSERR))) return "lazy FP state error (SecureFault)";
    if (ns & BIT(UF_STKOF)) return "stack overflow (UsageFault STKOF)";
    if (cfsr & BIT(BF_STKERR)) return "stacking bus error (BusFault STKERR)";
    if (ns & BIT(MM_MSTKERR)) return "stacking violation (MemManage MSTKERR)";
    if (cfsr & BIT(BF_PRECISERR)) return "blocked or failed data access (BusFault PRECISERR)";
    if (cfsr & BIT(BF_IMPRECISERR)) return "imprecise data bus error (BusFault IMPRECISERR)";
    if (cfsr & BIT(BF_IBUSERR)) return "instruction fetch bus error (BusFault IBUSERR)";
    if (cfsr & BIT(BF_UNSTKERR)) return "unstacking bus error (BusFault UNSTKERR)";
    if (cfsr & BIT(BF_LSPERR)) return "lazy FP stacking bus error (BusFault LSPERR)";
    if (ns & BIT(UF_UNDEFINSTR)) return "undefined instruction (UsageFault UNDEFINSTR)";
    if (ns & BIT(UF_INVSTATE)) return "invalid state (UsageFault INVSTATE)";
    if (ns & BIT(UF_INVPC)) return "invalid exception return (UsageFault INVPC)";
    if (ns & BIT(UF_NOCP)) return "no coprocessor (UsageFault NOCP)";
    if (ns & BIT(UF_UNALIGNED)) return "unaligned access (UsageFault UNALIGNED)";
    if (ns & BIT(UF_DIVBYZERO)) return "divide by zero (UsageFault DIVBYZERO)";
    if (ns & BIT(MM_IACCVIOL)) return "instruction access violation (MemManage IACCVIOL)";
    if (ns & BIT(MM_DACCVIOL)) return "data access violation (MemManage DACCVIOL)";
    if (ns & BIT(MM_MUNSTKERR)) return "unstacking violation (MemManage MUNSTKERR)";
    if (r->hfsr & BIT(HF_VECTTBL)) return "vector table read failed (HardFault VECTTBL)";
    return r->trigger == 3u ? "HardFault" : "fault";
}

bw_crash_class bw_crash_classify(const bw_crash_record *r, bool hang, bw_address_kind address_kind)
{
    uint32_t ns = r->cfsr_ns;
    if (hang) {
        return BW_CRASH_CLASS_HANG;
    }
    /* The stack pointer left its memory: by the limit register, or with a
     * fault while the exception frame was being pushed. */
    if ((ns & (BIT(UF_STKOF) | BIT(MM_MSTKERR))) || (r->cfsr & BIT(BF_STKERR))) {
        return BW_CRASH_CLASS_STACK_OVERFLOW;
    }
    if (ns & BIT(UF_UNDEFINSTR)) {
        switch (trap_of(r)) {
        case BW_CRASH_TRAP_RETURNED_FROM_MAIN: return BW_CRASH_CLASS_RETURNED_FROM_MAIN;
        case BW_CRASH_TRAP_UNHANDLED_INTERRUPT: return BW_CRASH_CLASS_UNHANDLED_INTERRUPT;
        case BW_CRASH_TRAP_STACK_OVERFLOW: return BW_CRASH_CLASS_STACK_OVERFLOW;
        default: return BW_CRASH_CLASS_UNDEFINED_INSTRUCTION;
        }
    }
    if (ns & (BIT(UF_INVSTATE) | BIT(UF_INVPC) | BIT(UF_NOCP))) {
        return BW_CRASH_CLASS_INVALID_STATE;
    }
    if (ns & (BIT(UF_UNALIGNED) | BIT(UF_DIVBYZERO))) {
        return BW_CRASH_CLASS_USAGE_FAULT;
    }
    if (address_kind == BW_ADDRESS_KERNEL_PERIPHERAL) {
        return BW_CRASH_CLASS_RESERVED_PERIPHERAL;
    }
    /* A forged exception return, or lazy FP state the app set where none
     * can be: the state is invalid, no secure memory was touched. */
    if (r->sfsr & (BIT(SF_INVIS) | BIT(SF_INVER) | BIT(SF_LSERR))) {
        return BW_CRASH_CLASS_INVALID_STATE;
    }
    if (r->trigger == 7u || r->sfsr != 0) {
        return BW_CRASH_CLASS_SECURE_ACCESS;
    }
    if (r->trigger == 5u || (r->cfsr & 0xFF00u)) {
        return address_kind == BW_ADDRESS_PROTECTED ? BW_CRASH_CLASS_BUS_BLOCKED
                                                    : BW_CRASH_CLASS_INVALID_ACCESS;
    }
    if ((ns & (BIT(MM_IACCVIOL) | BIT(MM_DACCVIOL) | BIT(MM_MUNSTKERR))) || (r->hfsr & BIT(HF_VECTTBL))) {
        return BW_CRASH_CLASS_INVALID_ACCESS;
    }
    return BW_CRASH_CLASS_UNKNOWN;
}
