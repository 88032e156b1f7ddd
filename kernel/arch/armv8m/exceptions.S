/*
 * Secure exception entry, the way into the app, and the way into the
 * kernel's supervisor thread.
 *
 * Faults: push r4-r11 (the app's callee-saved registers at the fault) and call
 * arch_fault_handle with (saved r4-r11, EXC_RETURN, exception number). If it
 * returns, the fault was the app's: it has been captured and the app stopped,
 * and the CPU goes to the supervisor thread (arch_enter_supervisor), which
 * does the work and later restarts the app -- or, when kernel work was under
 * the fault, back into that work, and PendSV_S enters the supervisor after. The supervision tick (SysTick_S)
 * enters the same way when it finds the app hung. PendSV_S carries deferred
 * kernel work and the app (re)start requests.
 *
 * arch_enter_app: from secure handler mode, prepare a fresh app context
 * (arch_app_prepare, C, which returns the EXC_RETURN to leave with), drop
 * every secure stack frame (the secure side has nothing live once the app
 * owns the CPU), clear r0-r12 so nothing secure leaks, and exception-return
 * into the app.
 *
 * arch_enter_supervisor: from secure handler mode, drop every secure stack
 * frame and exception-return into secure thread mode at
 * arch_supervisor_thread, on a fresh kernel stack, with BASEPRI_S masking
 * every app exception (the stopped app must not run) (arch_enter_secure_thread
 * does the same for any thread function; arch_enter_app uses it to idle in
 * arch_idle_thread when the app slot holds no valid app).
 */
#include "gate_violation.h"   /* BW_GATE_APP_MASK_PRIORITY */

    .syntax unified
    .thumb

    .section .text.arch_fault_entry, "ax", %progbits
    .global arch_fault_entry
    .type arch_fault_entry, %function
    .thumb_func
arch_fault_entry:
    mov     r1, lr                  /* EXC_RETURN */
    push    {r4-r11}                /* r0 <- pointer to the app's r4-r11 */
    mov     r0, sp
    mrs     r2, ipsr
    sub     sp, sp, #8              /* keep 8-byte alignment, room for lr */
    str     r1, [sp]
    bl      arch_fault_handle       /* returns only for an app fault */
    cbz     r0, 1f
    cmp     r0, #2
    bne     2f
    b.w     arch_enter_halted
2:  b.w     arch_enter_supervisor
1:  ldr     lr, [sp]                /* kernel work under the fault: back into it */
    add     sp, sp, #8
    pop     {r4-r11}
    bx      lr

    .section .text.SysTick_Handler, "ax", %progbits
    .global SysTick_Handler
    .type SysTick_Handler, %function
    .thumb_func
SysTick_Handler:
    mov     r1, lr                  /* EXC_RETURN */
    push    {r4-r11}                /* the app's r4-r11, should it be hung */
    mov     r0, sp
    sub     sp, sp, #8
    str     r1, [sp]
    bl      arch_tick               /* nonzero: the app was hung and is stopped */
    ldr     lr, [sp]
    add     sp, sp, #40             /* r4-r11 were preserved by the C code */
    cbnz    r0, 1f
    bx      lr
1:  b.w     arch_enter_supervisor

    .section .text.PendSV_Handler, "ax", %progbits
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    push    {r4, lr}
    mov     r0, lr                  /* EXC_RETURN: was the app itself preempted? */
    bl      arch_pendsv_work        /* 1: (re)start the app, 2: supervisor, 3: halt, 4: resume */
    pop     {r4, lr}
    cmp     r0, #1
    beq     2f
    cmp     r0, #2
    beq     3f
    cmp     r0, #3
    beq     4f
    cmp     r0, #4
    beq     5f
    bx      lr
2:  b.w     arch_enter_app
3:  b.w     arch_enter_supervisor
4:  ldr     r0, =arch_debug_saved   /* halt: the app's r4-r11 and EXC_RETURN, kept */
    stmia   r0!, {r4-r11}
    str     lr, [r0]
    b.w     arch_enter_halted
5:  ldr     r0, =__kernel_stack_top /* resume: drop the halted thread... */
    msr     msp, r0
    ldr     r0, =arch_debug_saved   /* ...and return into the app as it was */
    ldmia   r0!, {r4-r11}
    ldr     lr, [r0]
    movs    r0, #0
    msr     basepri, r0             /* the app's exceptions may run again */
    bx      lr                      /* the hardware unstacks the app's frame */
    .ltorg

/* The app halted by the debug monitor (debug_halt.c): the kernel sleeps in
 * a secure thread, every app exception masked, until PendSV_S resumes it. */
    .section .text.arch_enter_halted, "ax", %progbits
    .global arch_enter_halted
    .type arch_enter_halted, %function
    .thumb_func
arch_enter_halted:
    ldr     r0, =arch_debug_halted_thread
    b.w     arch_enter_secure_thread
    .ltorg

    .section .text.arch_enter_app, "ax", %progbits
    .global arch_enter_app
    .type arch_enter_app, %function
    .thumb_func
arch_enter_app:
    ldr     r0, =__kernel_stack_top
    msr     msp, r0
    bl      arch_app_prepare        /* returns the EXC_RETURN to leave with; 0: no app */
    cbnz    r0, 1f
    ldr     r0, =arch_idle_thread   /* no valid app: the kernel idles in thread mode */
    b.w     arch_enter_secure_thread
1:  mov     lr, r0
    movs    r0, #0
    msr     basepri, r0             /* the app's exceptions may run again */
    cpsie   i
    mov     r1, r0
    mov     r2, r0
    mov     r3, r0
    mov     r4, r0
    mov     r5, r0
    mov     r6, r0
    mov     r7, r0
    mov     r8, r0
    mov     r9, r0
    mov     r10, r0
    mov     r11, r0
    mov     r12, r0
    msr     APSR_nzcvq, r0
    bx      lr
    .ltorg

    .section .text.arch_enter_supervisor, "ax", %progbits
    .global arch_enter_supervisor
    .type arch_enter_supervisor, %function
    .thumb_func
arch_enter_supervisor:
    ldr     r0, =arch_supervisor_thread
    /* fall through */

/* r0: the secure thread's entry function. */
    .global arch_enter_secure_thread
    .type arch_enter_secure_thread, %function
    .thumb_func
arch_enter_secure_thread:
    movs    r1, #BW_GATE_APP_MASK_PRIORITY
    msr     basepri, r1             /* no app exception runs under a secure thread */
    cpsie   i
    mov     r2, r0
    ldr     r0, =__kernel_stack_top
    sub     r0, r0, #32             /* one basic frame at the top of the kernel stack */
    msr     msp, r0
    movs    r1, #0
    str     r1, [r0, #0]            /* r0 */
    str     r1, [r0, #4]            /* r1 */
    str     r1, [r0, #8]            /* r2 */
    str     r1, [r0, #12]           /* r3 */
    str     r1, [r0, #16]           /* r12 */
    mvn     r1, #0
    str     r1, [r0, #20]           /* lr: the thread never returns */
    bic     r1, r2, #1
    str     r1, [r0, #24]           /* pc */
    mov     r1, #0x01000000
    str     r1, [r0, #28]           /* xPSR: Thumb */
    ldr     lr, =0xFFFFFFF9         /* secure thread mode, MSP, basic frame */
    bx      lr
    .ltorg
