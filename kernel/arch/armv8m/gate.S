/*
 * The system-call gate: the only way from the app into the kernel.
 *
 * Call N of the table (sdk/syscalls.def) has its entry at the fixed address
 * BOARD_GATE_BASE + 8*slot in a Non-Secure-Callable region, "sg; b.w thunk",
 * the slot from the board's layout (port/<board>/gate_layout.def: N itself
 * on qemu-an505, the original Microvisor's on the STM32U585).
 * The thunk widens the entry's narrow arguments (MV_SYSCALL_NARROW lines of
 * syscalls.def: the kernel never relies on the app's compiler to have
 * extended them) and enters bw_gate_call with the entry's index in r4.
 *
 * bw_gate_call trusts nothing the app chose (docs/DESIGN.md, "The gate and
 * the fault path: what they trust"):
 *  - the return address in lr must be plain app code: an EXC_RETURN or
 *    FNC_RETURN value (0xF0000000 and up) would make the closing BXNS an
 *    exception return or a pop from the secure stack the app picked;
 *  - a call from thread mode finds no call in progress and the secure stack
 *    exactly at its top (an app interrupt that preempted a call and never
 *    returned into it left that call's frame behind: abandoned);
 *  - at most BW_GATE_NESTING_MAX calls are in progress at once (app
 *    interrupt handlers may call the kernel while a call they preempted is
 *    still on the secure stack); a call past the limit is refused with
 *    MV_STATUS_MICROVISORBUSY, so the one secure stack has a fixed bound.
 * A violation is an app fault: arch_gate_violation captures and stops the
 * app and pends PendSV_S, which preempts at once and enters the supervisor
 * thread (the same way as an app fault taken on top of kernel work).
 * The depth counter is updated with PRIMASK_S set, so an app interrupt can
 * never split its read-modify-write.
 *
 * On the way out: r1-r3, r12 and every APSR flag (N Z C V Q and GE) are
 * cleared, r0 carries the MvStatus, r4-r11 were restored by the C code.
 * No call takes more than four arguments, so the kernel never reads the
 * app's stack here.
 */
#include "bw_config.h"
#include "gate_violation.h"

    .syntax unified
    .thumb

/* Widening, one step per MV_SYSCALL_NARROW line: the line sets the symbol
 * bw_narrow_<name>_<arg> to its kind's code, the entry's thunk widens. */
#define BW_NARROW_u8 1
#define BW_NARROW_u16 2
#define BW_NARROW_s8 3
#define BW_NARROW_s16 4
#define BW_NARROW_bool 5
#define MV_SYSCALL(index, name, impl)
#define MV_SYSCALL_NARROW(index, name, arg, kind) .set bw_narrow_##name##_##arg, BW_NARROW_##kind
#include "syscalls.def"
#undef MV_SYSCALL
#undef MV_SYSCALL_NARROW

.macro widen_if name, arg
    .ifdef bw_narrow_\name\()_\arg
    .if bw_narrow_\name\()_\arg == BW_NARROW_u8
    uxtb    r\arg, r\arg
    .elseif bw_narrow_\name\()_\arg == BW_NARROW_u16
    uxth    r\arg, r\arg
    .elseif bw_narrow_\name\()_\arg == BW_NARROW_s8
    sxtb    r\arg, r\arg
    .elseif bw_narrow_\name\()_\arg == BW_NARROW_s16
    sxth    r\arg, r\arg
    .else
    cmp     r\arg, #0              /* bool: any nonzero bit is true */
    it      ne
    movne   r\arg, #1
    .endif
    .endif
.endm

/* Each call's index, by name (the thunk passes it to bw_gate_call). */
#define MV_SYSCALL(index, name, impl) .set bw_index_##name, index
#define MV_SYSCALL_NARROW(index, name, arg, kind)
#include "syscalls.def"
#undef MV_SYSCALL
#undef MV_SYSCALL_NARROW

.macro gate_entry slot, name
    .section .gate, "ax", %progbits
    .org \slot * 8
    .global bw_gate_\name
    .type bw_gate_\name, %function
bw_gate_\name:
    sg
    b.w     bw_thunk_\name
    .set bw_slot_\name, \slot

    .section .text.bw_thunk_\name, "ax", %progbits
    .type bw_thunk_\name, %function
    .thumb_func
bw_thunk_\name:
    push    {r4-r6, lr}
    widen_if \name, 0
    widen_if \name, 1
    widen_if \name, 2
    widen_if \name, 3
    movs    r4, #bw_index_\name
    b.w     bw_gate_call
.endm

/* The entries, where the board's layout puts them (port/<board>/gate_layout.def,
 * ascending slots: .org cannot go back). */
#define BW_GATE_SLOT(slot, name) gate_entry slot, name
#include "gate_layout.def"
#undef BW_GATE_SLOT

    .section .gate, "ax", %progbits
    .global bw_gate_end
bw_gate_end:

/* The implementations, by index. */
    .section .rodata.bw_gate_impls, "a", %progbits
    .align 2
    .global bw_gate_impls
bw_gate_impls:
#define MV_SYSCALL(index, name, impl) .word impl
#define MV_SYSCALL_NARROW(index, name, arg, kind)
#include "syscalls.def"
#undef MV_SYSCALL
#undef MV_SYSCALL_NARROW

/* Each call's slot, by index (the entry's address in a crash record); an
 * undefined bw_slot_<name> here is a call the board's layout left out. */
    .section .rodata.bw_gate_slots, "a", %progbits
    .global bw_gate_slots
bw_gate_slots:
#define MV_SYSCALL(index, name, impl) .byte bw_slot_##name
#define MV_SYSCALL_NARROW(index, name, arg, kind)
#include "syscalls.def"
#undef MV_SYSCALL
#undef MV_SYSCALL_NARROW

/* Calls in progress (entered, not yet returned). */
    .section .bss.bw_gate_depth, "aw", %nobits
    .align 2
    .global bw_gate_depth
bw_gate_depth:
    .space 4

/* r0-r3: the app's arguments (widened); r4: entry index; pushed: the app's
 * r4-r6 and its return address. */
    .section .text.bw_gate_call, "ax", %progbits
    .global bw_gate_call
    .type bw_gate_call, %function
    .thumb_func
bw_gate_call:
    cmp     lr, #0xF0000000         /* EXC_RETURN, FNC_RETURN: not a return address */
    bhs     bw_gate_bad_return
    cpsid   i
    ldr     r5, =bw_gate_depth
    ldr     r6, [r5]
    mrs     r12, ipsr
    cmp     r12, #0
    bne     1f                      /* from an app handler: calls may nest */
    cbnz    r6, bw_gate_abandoned   /* from thread mode: none may be in progress... */
    ldr     r12, =__kernel_stack_top - 16
    cmp     sp, r12                 /* ...nor any secure frame below our push */
    bne     bw_gate_abandoned
1:  cmp     r6, #BW_GATE_NESTING_MAX
    bhs     bw_gate_busy
    adds    r6, r6, #1
    str     r6, [r5]
    cpsie   i
    ldr     r12, =bw_gate_impls
    ldr     r12, [r12, r4, lsl #2]
    blx     r12
    cpsid   i
    ldr     r6, [r5]                /* r5 survived the call (callee-saved) */
    subs    r6, r6, #1
    str     r6, [r5]
    cpsie   i
bw_gate_return:
    pop     {r4-r6, lr}
    movs    r1, #0
    mov     r2, r1
    mov     r3, r1
    mov     r12, r1
    msr     APSR_nzcvqg, r1
    bxns    lr

/* BW_GATE_NESTING_MAX calls in progress (r6): refuse this one, unless the
 * app's active handlers cannot account for them (arch_gate_busy decides). */
bw_gate_busy:
    cpsie   i
    mov     r0, r6
    bl      arch_gate_busy          /* MV_STATUS_MICROVISORBUSY, or 0: a violation */
    cbz     r0, 2f
    b       bw_gate_return
2:  movs    r0, #BW_GATE_ABANDONED
    mov     r1, r6
    b       bw_gate_violation

bw_gate_abandoned:                  /* r6: calls in progress */
    cpsie   i
    movs    r0, #BW_GATE_ABANDONED
    mov     r1, r6
    b       bw_gate_violation

bw_gate_bad_return:
    movs    r0, #BW_GATE_BAD_RETURN
    mov     r1, lr

/* r0: what (BW_GATE_*), r1: detail, r4: entry index. No app exception may
 * run from here on (BASEPRI_S masks them all; PendSV_S still can). */
bw_gate_violation:
    movs    r2, #BW_GATE_APP_MASK_PRIORITY
    msr     basepri, r2
    push    {r7-r11}                /* with r4-r6 and lr above: the app's r4-r11 */
    mov     r2, r4
    mov     r3, sp
    bl      arch_gate_violation     /* captures, stops the app, pends PendSV_S: */
    b       .                       /* which has left for the supervisor by now */
    .ltorg
