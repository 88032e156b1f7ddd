/*
 * Secure exception entry and the way into the app.
 *
 * Faults: push r4-r11 (the app's callee-saved registers at the fault) and call
 * arch_fault_handle with (saved r4-r11, EXC_RETURN, exception number). If it
 * returns, the fault was the app's and the app is started again from its
 * reset vector (arch_enter_app). PendSV_S carries deferred kernel work and
 * the app (re)start requests.
 *
 * arch_enter_app: from secure handler mode, prepare a fresh app context
 * (arch_app_prepare, C), drop every secure stack frame (the secure thread has
 * nothing live once the app owns the CPU), clear r4-r11 so nothing secure
 * leaks, and return to the app's thread mode on MSP_NS.
 */
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
    b       arch_enter_app

    .section .text.PendSV_Handler, "ax", %progbits
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    push    {r4, lr}
    bl      arch_pendsv_work        /* nonzero: (re)start the app now */
    pop     {r4, lr}
    cbz     r0, 1f
    b.w     arch_enter_app
1:  bx      lr

    .section .text.arch_enter_app, "ax", %progbits
    .global arch_enter_app
    .type arch_enter_app, %function
    .thumb_func
arch_enter_app:
    ldr     r0, =__kernel_stack_top
    msr     msp, r0
    bl      arch_app_prepare
    movs    r0, #0
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
    ldr     lr, =0xFFFFFFB9         /* EXC_RETURN_NS_THREAD_MSP */
    bx      lr
    .ltorg
