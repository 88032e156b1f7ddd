/*
 * The kernel's entry after its reset code: bring up the board and the
 * TrustZone set-up, start the portable core, then hand the CPU to the app.
 */
#include "arch.h"
#include "board.h"
#include "bw_board.h"
#include "bw_kernel.h"
#include "bw_log.h"
#include "bw_version.h"

void kernel_main(void) __attribute__((noreturn));
void kernel_main(void)
{
    board_init();
    arch_init();
    bw_log("Bulwark kernel %s on %s", BW_KERNEL_VERSION_STRING, BOARD_NAME);
    bw_err err = bw_kernel_init();
    if (err != BW_OK) {
        bw_log("kernel core init failed (error %d): handles are unavailable", (int)err);
    }
    arch_app_start(MV_WAKEREASON_COLDBOOT);
}
