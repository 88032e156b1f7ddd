/*
 * No task switch inside a kernel call (see bw_freertos.h).
 *
 * PendSV_Handler runs in front of the port's xPortPendSVHandler. EXC_RETURN
 * bit 6 (S) says where the interrupted thread's frame was stacked: on the
 * secure stack means the running task is inside an mv* call. Then switching
 * tasks would leave that call's secure frame under the next task's calls, so
 * the guard only records the request (bw_freertos_switch_deferred) and
 * returns into the call.
 *
 * __wrap_<call>, one per entry of sdk/syscalls.def: the app's references to
 * <call> are linked here (-Wl,--wrap=<call>, bulwark_freertos.cmake). Each
 * makes the real call (its gate entry) and, if a switch was deferred
 * meanwhile, pends PendSV again; the switch happens as the wrapper returns.
 * r0 (the MvStatus) is preserved; r1-r3, r12 and the flags are caller-saved
 * (the gate clears them anyway). Interrupt handlers may call through the
 * wrappers too: PendSV cannot run before they return.
 *
 * State: bw_freertos_switch_deferred is 1 from a deferred PendSV until some
 * wrapper re-pends it (a spare re-pend only costs a PendSV that finds no
 * better task); bw_freertos_deferred_count counts deferrals (statistics).
 */
    .syntax unified
    .thumb

    .section .bss.bw_freertos_switch, "aw", %nobits
    .align 2
    .global bw_freertos_switch_deferred
bw_freertos_switch_deferred:
    .space 4
    .global bw_freertos_deferred_count
bw_freertos_deferred_count:
    .space 4

    .section .text.PendSV_Handler, "ax", %progbits
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    tst     lr, #0x40               /* EXC_RETURN.S: thread was in the kernel */
    bne     1f
    b.w     xPortPendSVHandler      /* lr (EXC_RETURN) untouched */
1:  ldr     r0, =bw_freertos_switch_deferred
    movs    r1, #1
    str     r1, [r0]                /* _deferred */
    ldr     r1, [r0, #4]
    adds    r1, r1, #1
    str     r1, [r0, #4]            /* _deferred_count */
    bx      lr
    .size PendSV_Handler, . - PendSV_Handler
    .ltorg

    .section .text.bw_freertos_after_call, "ax", %progbits
    .type bw_freertos_after_call, %function
    .thumb_func
bw_freertos_after_call:             /* entered by b.w with {r4, lr} pushed */
    ldr     r1, =bw_freertos_switch_deferred
    ldr     r2, [r1]
    cbnz    r2, 1f
    pop     {r4, pc}
1:  movs    r2, #0
    str     r2, [r1]
    ldr     r1, =0xE000ED04         /* ICSR */
    mov     r2, #0x10000000         /* PENDSVSET */
    str     r2, [r1]
    dsb
    isb
    pop     {r4, pc}
    .size bw_freertos_after_call, . - bw_freertos_after_call
    .ltorg

.macro wrap_call name
    .section .text.__wrap_\name, "ax", %progbits
    .global __wrap_\name
    .type __wrap_\name, %function
    .thumb_func
__wrap_\name:
    push    {r4, lr}
    bl      __real_\name
    b.w     bw_freertos_after_call
    .size __wrap_\name, . - __wrap_\name
.endm

#define MV_SYSCALL(index, name, impl) wrap_call name
#include "syscalls.def"
