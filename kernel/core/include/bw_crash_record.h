/*
 * The crash record: what the kernel keeps about one app crash (docs/SPEC.md,
 * "Crash record"). Fixed size, versioned, little-endian, CRC-32 last; the
 * same bytes go to the flash ring (bw_crash_log.h), to the console as one
 * "[kernel] crash record: <hex>" line, and into `bulwark crash decode`.
 *
 * This header and bw_crash_record.c are plain C with no kernel dependency
 * beyond bw_crc32: the host CLI compiles them too, so the kernel and the
 * decoder always agree on the layout, the class names and the meaning of the
 * status bits. The layout is Armv8-M's (registers, fault status registers);
 * the struct is the wire format on little-endian machines (checked below).
 *
 * Anything read back (flash after a power cut, a hex string typed by a user)
 * is untrusted: bw_crash_record_check validates magic, version, size, CRC
 * and every length field before any other field is used.
 */
#ifndef BW_CRASH_RECORD_H
#define BW_CRASH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bw_err.h"
#include "bw_port.h"

#define BW_CRASH_RECORD_MAGIC    0x52435742u   /* bytes "BWCR" */
#define BW_CRASH_RECORD_VERSION  1u
#define BW_CRASH_STACK_CAPACITY  256u          /* bytes of app stack a record can hold */
#define BW_CRASH_RECORD_SIZE     448u

/* What went wrong, from the status bits, the faulting instruction and the
 * board's knowledge of the fault address (bw_crash_classify). Values are
 * stored in records and returned to apps (bulwark_ext.h): append only. */
typedef enum bw_crash_class {
    BW_CRASH_CLASS_UNKNOWN = 0,
    BW_CRASH_CLASS_INVALID_ACCESS = 1,        /* bus error or MPU/XN violation on no one's memory */
    BW_CRASH_CLASS_SECURE_ACCESS = 2,         /* SecureFault: data access to, or call into, secure memory */
    BW_CRASH_CLASS_BUS_BLOCKED = 3,           /* BusFault from an MPC/PPC the app is not granted */
    BW_CRASH_CLASS_RESERVED_PERIPHERAL = 4,   /* access to a peripheral the kernel keeps */
    BW_CRASH_CLASS_UNDEFINED_INSTRUCTION = 5, /* UsageFault UNDEFINSTR */
    BW_CRASH_CLASS_INVALID_STATE = 6,         /* UsageFault INVSTATE, INVPC, NOCP */
    BW_CRASH_CLASS_USAGE_FAULT = 7,           /* UsageFault UNALIGNED, DIVBYZERO */
    BW_CRASH_CLASS_STACK_OVERFLOW = 8,        /* UsageFault STKOF (MSPLIM_NS/PSPLIM_NS) */
    BW_CRASH_CLASS_RETURNED_FROM_MAIN = 9,    /* the SDK's UDF #0xB1 after main returned */
    BW_CRASH_CLASS_UNHANDLED_INTERRUPT = 10,  /* the SDK's UDF #0xB2 in Default_Handler */
    BW_CRASH_CLASS_HANG = 11,                 /* interrupts masked for too long */
    BW_CRASH_CLASS_BAD_KERNEL_CALL = 12,      /* the gate refused the call as an ABI violation */
    BW_CRASH_CLASS_KERNEL_RESET = 13,         /* the chip reset while the app ran */
    BW_CRASH_CLASS_COUNT
} bw_crash_class;

/* Record flags. */
#define BW_CRASH_FLAG_FRAME_VALID     (1u << 0)  /* r0-r3, r12, lr, pc, xpsr came from the app's stack */
#define BW_CRASH_FLAG_SFAR_VALID      (1u << 1)
#define BW_CRASH_FLAG_BFAR_VALID      (1u << 2)
#define BW_CRASH_FLAG_MMFAR_VALID     (1u << 3)
#define BW_CRASH_FLAG_FP_FRAME        (1u << 4)  /* the app's frame had FP state (EXC_RETURN.FType = 0) */
#define BW_CRASH_FLAG_STACK_TRUNCATED (1u << 5)  /* fewer stack bytes were readable than the policy asked */
#define BW_CRASH_FLAG_CRASH_LOOP      (1u << 6)  /* this crash made a crash loop (see loop_action) */
#define BW_CRASH_FLAG_INSN_VALID      (1u << 7)  /* insn holds the first halfword at pc */

/* What the supervisor did about a crash loop (record field loop_action). */
typedef enum bw_crash_loop_action {
    BW_CRASH_LOOP_NONE = 0,
    BW_CRASH_LOOP_ROLLED_BACK = 1,       /* the last-known-good app replaced the crashing one */
    BW_CRASH_LOOP_PARKED = 2,            /* no good app: restarts at the maximum backoff */
} bw_crash_loop_action;

/* restart_delay_ms value of a crash after which the app is not restarted. */
#define BW_CRASH_NO_RESTART 0xFFFFFFFFu

/* The record. On a little-endian machine these bytes are the format of
 * docs/SPEC.md ("Crash record"); offsets are checked in bw_crash_record.c. */
typedef struct bw_crash_record {
    uint32_t magic;               /* BW_CRASH_RECORD_MAGIC */
    uint16_t version;             /* BW_CRASH_RECORD_VERSION */
    uint16_t size;                /* BW_CRASH_RECORD_SIZE */
    uint32_t sequence;            /* 1, 2, ...: order in the device's crash log */
    uint8_t crash_class;          /* bw_crash_class */
    uint8_t trigger;              /* secure exception that caught it: 3, 5, 7, or 15 (tick: hang) */
    uint16_t flags;               /* BW_CRASH_FLAG_* */
    uint16_t app_exception;       /* the app's IPSR: 0 thread, 11 SVCall, 16 + n IRQ n, ... */
    uint16_t stack_len;           /* valid bytes in stack[] (<= BW_CRASH_STACK_CAPACITY) */
    uint32_t r[13];               /* r0-r12 */
    uint32_t sp;                  /* the app's SP when it crashed (above the exception frame) */
    uint32_t lr;
    uint32_t pc;                  /* the faulting instruction (0 if the frame was lost) */
    uint32_t xpsr;
    uint32_t exc_return;
    uint32_t control_ns;
    uint32_t msp_ns;
    uint32_t psp_ns;
    uint32_t msplim_ns;
    uint32_t psplim_ns;
    uint32_t masks_ns;            /* bit 0 PRIMASK_NS, bit 1 FAULTMASK_NS, bits 8-15 BASEPRI_NS */
    uint32_t cfsr;                /* secure bank: the BusFault bits */
    uint32_t cfsr_ns;             /* the app's bank: MemManage and UsageFault bits */
    uint32_t hfsr;
    uint32_t sfsr;
    uint32_t sfar;
    uint32_t bfar;
    uint32_t mmfar_ns;
    uint32_t fault_address;       /* the valid one of SFAR/BFAR/MMFAR, else 0 */
    uint32_t app_version;         /* 0 until bundles name it */
    uint64_t uptime_us;           /* kernel time of the crash */
    uint32_t run_time_ms;         /* how long this run of the app lasted */
    uint32_t crash_count;         /* crashes since the kernel started, this one included */
    uint32_t crashes_since_healthy;
    uint32_t restart_delay_ms;    /* the backoff chosen; BW_CRASH_NO_RESTART if none */
    uint32_t stack_base;          /* app address of stack[0] (= sp) */
    uint16_t loop_action;         /* bw_crash_loop_action */
    uint16_t reserved0;           /* 0 */
    uint8_t stack[BW_CRASH_STACK_CAPACITY];
    uint32_t insn;                /* first halfword of the faulting instruction (INSN_VALID) */
    uint32_t crc32;               /* CRC-32 (IEEE) of every byte before it */
} bw_crash_record;

/* Sets magic, version, size and CRC (call last, after every other field). */
void bw_crash_record_seal(bw_crash_record *record);

/* Checks bytes read from anywhere: BW_E_SIZE if len is not the record size,
 * BW_E_INVALID for a wrong magic, BW_E_VERSION for another version or size,
 * BW_E_IO for a CRC mismatch, BW_E_INVALID for an impossible field (stack_len
 * past the capacity, class out of range). On BW_OK *out holds the record. */
bw_err bw_crash_record_check(const void *bytes, size_t len, bw_crash_record *out);

/* Short lower-case name of a class ("secure-access"); "invalid" past the enum. */
const char *bw_crash_class_name(uint32_t crash_class);

/* What the app was running when it crashed ("thread mode", "SVC handler",
 * "IRQ 7 handler", ...), into out (NUL-terminated, cut to fit). */
void bw_crash_context_text(uint32_t app_exception, char *out, size_t size);

/* The main cause in words from the status registers, e.g. "secure memory
 * access (SecureFault AUVIOL)"; for a hang, "interrupts masked too long". */
const char *bw_crash_cause_text(const bw_crash_record *record);

/* What the SDK trap at pc means ("main returned (SDK UDF #0xB1)"), or NULL
 * when the crash is not one of the BW_CRASH_TRAP_* below. */
const char *bw_crash_trap_text(const bw_crash_record *record);

/* The name of the exception that caught it ("HardFault", "BusFault", ...). */
const char *bw_crash_trigger_name(uint32_t trigger);

/* One status bit: register, bit number, short name, meaning. */
typedef struct bw_crash_status_bit {
    const char *reg;       /* "CFSR", "CFSR_NS", "HFSR", "SFSR" */
    uint8_t bit;
    const char *name;      /* "PRECISERR" */
    const char *meaning;   /* "precise data bus error (BFAR holds the address)" */
} bw_crash_status_bit;

/* Calls fn for every status bit set in the record's CFSR, CFSR_NS, HFSR and
 * SFSR, in that order (for decoders). */
void bw_crash_status_bits(const bw_crash_record *record,
                          void (*fn)(void *context, const bw_crash_status_bit *bit),
                          void *context);

/* The SDK's deliberate traps: UDF #imm (T1: 0xDE00 | imm) at the faulting pc. */
#define BW_CRASH_TRAP_RETURNED_FROM_MAIN   0xDEB1u   /* sdk/startup: main returned */
#define BW_CRASH_TRAP_UNHANDLED_INTERRUPT  0xDEB2u   /* sdk/startup: Default_Handler */
#define BW_CRASH_TRAP_ASSERT               0xDEB3u   /* sdk/freertos: configASSERT */
#define BW_CRASH_TRAP_STACK_OVERFLOW       0xDEB4u   /* sdk/freertos: stack-overflow hook */
#define BW_CRASH_TRAP_MALLOC_FAILED        0xDEB5u   /* sdk/freertos: malloc-failed hook */

/* The class of a crash from its record (status registers, trigger, flags,
 * insn and fault address already filled in), whether the supervision tick
 * caught a hang, and what the board says the fault address is
 * (port_address_kind; pass BW_ADDRESS_UNKNOWN when there is no address). */
bw_crash_class bw_crash_classify(const bw_crash_record *record, bool hang,
                                 bw_address_kind address_kind);

#endif
