/*
 * App debug monitor packets (docs/SPEC.md §20): the request and answer
 * types, error codes and register numbers, shared by the kernel's monitor
 * and the host CLI's GDB server.
 */
#ifndef BW_DEBUG_PACKETS_H
#define BW_DEBUG_PACKETS_H

enum {
    BW_DBG_STATUS = 0x01,           /* -> STATE */
    BW_DBG_HALT = 0x02,             /* -> OK */
    BW_DBG_RESUME = 0x03,           /* -> OK */
    BW_DBG_READ_REGS = 0x04,        /* -> REGISTERS */
    BW_DBG_WRITE_REG = 0x05,        /* u8 reg, u32 value -> OK */
    BW_DBG_READ_MEM = 0x06,         /* u32 address, u16 length -> MEMORY */
    BW_DBG_WRITE_MEM = 0x07,        /* u32 address, bytes -> OK */
    BW_DBG_SET_BREAKPOINT = 0x08,   /* u32 address, u8 kind -> OK */
    BW_DBG_CLEAR_BREAKPOINT = 0x09, /* u32 address, u8 kind -> OK */
    BW_DBG_DETACH = 0x0A,           /* -> OK */

    BW_DBG_OK = 0x80,
    BW_DBG_ERROR = 0x81,            /* u8 code, reason */
    BW_DBG_STATE = 0x82,            /* BW_DBG_STATE_SIZE bytes in all */
    BW_DBG_REGISTERS = 0x83,        /* u8 count, 3 x 0, count x u32 */
    BW_DBG_MEMORY = 0x84,           /* bytes */
};

/* ERROR codes */
enum {
    BW_DBG_E_MALFORMED = 1,
    BW_DBG_E_UNKNOWN = 2,
    BW_DBG_E_STATE = 3,
    BW_DBG_E_REFUSED = 4,
    BW_DBG_E_FULL = 5,
    BW_DBG_E_FLASH = 6,
    BW_DBG_E_NO_APP = 7,
};

/* STATE: the app's state (byte 1) */
enum { BW_DBG_RUNNING = 0, BW_DBG_HALTED = 1, BW_DBG_NOT_RUNNING = 2 };

/* Signals in STATE (GDB's numbering) */
enum {
    BW_DBG_SIGINT = 2, BW_DBG_SIGILL = 4, BW_DBG_SIGTRAP = 5, BW_DBG_SIGBUS = 7,
    BW_DBG_SIGFPE = 8, BW_DBG_SIGSEGV = 11,
};

#define BW_DBG_STATE_SIZE 32u      /* type, state, signal, exception, 7 x u32 */
#define BW_DBG_FAULT_WORDS 7u      /* CFSR_NS, CFSR_S, HFSR, SFSR, SFAR, BFAR, MMFAR_NS */
#define BW_DBG_MEM_MAX 256u        /* READ_MEM / WRITE_MEM bytes at most */
#define BW_DBG_REASON_MAX 64u
#define BW_DBG_KIND_THUMB 2u
#define BW_DBG_BKPT 0xBE00u        /* the breakpoint instruction: BKPT #0 */

/* Register numbers */
enum {
    BW_DBG_REG_SP = 13, BW_DBG_REG_LR = 14, BW_DBG_REG_PC = 15, BW_DBG_REG_XPSR = 16,
    BW_DBG_REG_MSP = 17, BW_DBG_REG_PSP = 18, BW_DBG_REG_PRIMASK = 19, BW_DBG_REG_BASEPRI = 20,
    BW_DBG_REG_FAULTMASK = 21, BW_DBG_REG_CONTROL = 22,
    BW_DBG_REG_COUNT = 23,
};

#endif
