/*
 * The demo on qemu-an505: LED1 of the FPGA I/O block. The kernel keeps that
 * block secure and mediates it: bit 1 of the LED register is the app's,
 * written with mvPeriphPoke32 and read with mvPeriphPeek32 (LED0 is the
 * system LED). IRQ 64 (DMA2_IRQn) is a line no an505 device drives; its
 * handler is named Arm's way.
 */
#include "demo_board.h"

#define FPGAIO_LED  0x40302000u
#define LED1        0x2u

const uint32_t demo_notify_irq = 64u;

void DMA2_IRQHandler(void);
void DMA2_IRQHandler(void)
{
    demo_notify_isr();
}

enum MvStatus demo_led_init(void)
{
    return mvPeriphPoke32(FPGAIO_LED, LED1, 0u);
}

enum MvStatus demo_led_set(bool on, bool *lit_out)
{
    enum MvStatus status = mvPeriphPoke32(FPGAIO_LED, LED1, on ? LED1 : 0u);
    uint32_t value = 0;
    if (status == MV_STATUS_OKAY) {
        status = mvPeriphPeek32(FPGAIO_LED, &value);
    }
    *lit_out = (value & LED1) != 0u;
    return status;
}
