/*
 * The demo on an STM32U585 board (B-U585I-IOT02A: green LED on PH7, lit when
 * the pin is low). GPIO pins are the app's; their clock is a mediated RCC
 * bit, so the app turns it on with mvPeriphPoke32. TIM8_BRK_IRQn (51) is the
 * unused line the public Microvisor demos use, its handler named ST's way. Untested on hardware.
 */
#include "demo_board.h"

#define RCC_AHB2ENR1     0x46020C8Cu   /* non-secure alias */
#define RCC_GPIOHEN      (1u << 7)
#define GPIOH_BASE       0x42021C00u
#define GPIOH_MODER      (*(volatile uint32_t *)(GPIOH_BASE + 0x00u))
#define GPIOH_ODR        (*(volatile uint32_t *)(GPIOH_BASE + 0x14u))
#define GPIOH_BSRR       (*(volatile uint32_t *)(GPIOH_BASE + 0x18u))
#define LED_PIN          7u

const uint32_t demo_notify_irq = 51u;

void TIM8_BRK_IRQHandler(void);
void TIM8_BRK_IRQHandler(void)
{
    demo_notify_isr();
}

enum MvStatus demo_led_init(void)
{
    enum MvStatus status = mvPeriphPoke32(RCC_AHB2ENR1, RCC_GPIOHEN, RCC_GPIOHEN);
    if (status == MV_STATUS_OKAY) {
        GPIOH_BSRR = 1u << LED_PIN;   /* off (high) before it becomes an output */
        GPIOH_MODER = (GPIOH_MODER & ~(3u << (2u * LED_PIN))) | (1u << (2u * LED_PIN));
    }
    return status;
}

enum MvStatus demo_led_set(bool on, bool *lit_out)
{
    GPIOH_BSRR = on ? 1u << (LED_PIN + 16u) : 1u << LED_PIN;
    *lit_out = (GPIOH_ODR & (1u << LED_PIN)) == 0u;
    return MV_STATUS_OKAY;
}
