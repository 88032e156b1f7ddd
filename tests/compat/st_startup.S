/*
 * An ST-style start-up file, written for the compatibility tests: what an app
 * generated for the original Microvisor (STM32CubeU5's startup_<device>.s)
 * brings, in its shape and with its link conventions, for whichever board the
 * build is for:
 *  - the vector table g_pfnVectors in .isr_vector, handlers by the vendor's
 *    names (the board's port/<board>/irq_names.def), each weak, defaulting
 *    to Default_Handler (an endless loop);
 *  - Reset_Handler: sp from _estack, SystemInit, .data from _sidata to
 *    _sdata.._edata, .bss from _sbss to _ebss zeroed, __libc_init_array, main.
 * With it in an app, the SDK's start-up object stays out (bulwark_app.cmake).
 */
    .syntax unified
    .thumb

    .section .text.Reset_Handler, "ax", %progbits
    .global Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    ldr     r0, =_estack
    mov     sp, r0
    bl      SystemInit
    ldr     r0, =_sdata                 /* .data: copied word by word */
    ldr     r1, =_edata
    ldr     r2, =_sidata
1:  cmp     r0, r1
    bhs     2f
    ldr     r3, [r2], #4
    str     r3, [r0], #4
    b       1b
2:  ldr     r0, =_sbss                  /* .bss: zeroed */
    ldr     r1, =_ebss
    movs    r3, #0
3:  cmp     r0, r1
    bhs     4f
    str     r3, [r0], #4
    b       3b
4:  bl      __libc_init_array
    bl      main
5:  b       5b
    .size Reset_Handler, . - Reset_Handler
    .ltorg

    .section .text.Default_Handler, "ax", %progbits
    .global Default_Handler
    .type Default_Handler, %function
Default_Handler:
    b       Default_Handler
    .size Default_Handler, . - Default_Handler

#define WEAK_HANDLER(name) .weak name; .thumb_set name, Default_Handler
    WEAK_HANDLER(NMI_Handler)
    WEAK_HANDLER(HardFault_Handler)
    WEAK_HANDLER(MemManage_Handler)
    WEAK_HANDLER(BusFault_Handler)
    WEAK_HANDLER(UsageFault_Handler)
    WEAK_HANDLER(SecureFault_Handler)
    WEAK_HANDLER(SVC_Handler)
    WEAK_HANDLER(DebugMon_Handler)
    WEAK_HANDLER(PendSV_Handler)
    WEAK_HANDLER(SysTick_Handler)
#define BW_IRQ(n, name) WEAK_HANDLER(name##_IRQHandler)
#define BW_IRQ_RESERVED(n)
#include "irq_names.def"
#undef BW_IRQ
#undef BW_IRQ_RESERVED

    .section .isr_vector, "a", %progbits
    .global g_pfnVectors
    .type g_pfnVectors, %object
g_pfnVectors:
    .word   _estack
    .word   Reset_Handler
    .word   NMI_Handler
    .word   HardFault_Handler
    .word   MemManage_Handler
    .word   BusFault_Handler
    .word   UsageFault_Handler
    .word   SecureFault_Handler
    .word   0, 0, 0
    .word   SVC_Handler
    .word   DebugMon_Handler
    .word   0
    .word   PendSV_Handler
    .word   SysTick_Handler
#define BW_IRQ(n, name) .word name##_IRQHandler
#define BW_IRQ_RESERVED(n) .word 0
#include "irq_names.def"
#undef BW_IRQ
#undef BW_IRQ_RESERVED
    .size g_pfnVectors, . - g_pfnVectors
