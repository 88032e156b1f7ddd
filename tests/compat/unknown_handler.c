/*
 * An app that defines a handler under a name the board does not know: on
 * qemu-an505 there is no TIM6 (that is an STM32 name). Its build must fail,
 * naming the symbol (tests/compat/CMakeLists.txt), rather than link an app
 * whose handler would never run.
 */
#include "bulwark_board.h"

void TIM6_IRQHandler(void);
void TIM6_IRQHandler(void)
{
}

int main(void)
{
    board_exit(0);
}
