# stm32u585 board description for the build (its map: memory_map.def). Untested on hardware.
set(BW_BOARD_IRQ_COUNT 126)
set(BW_BOARD_KERNEL_SOURCES
  ${BW_PORT_DIR}/board_u585.c
  ${BW_PORT_DIR}/port_u585.c
  ${BW_PORT_DIR}/u585_layout.c
  ${BW_PORT_DIR}/u585_flash.c
  ${BW_PORT_DIR}/u585_timebase.c
  ${BW_PORT_DIR}/u585_console.c
  ${BW_PORT_DIR}/u585_rng.c)
set(BW_BOARD_APP_SOURCES ${PROJECT_SOURCE_DIR}/sdk/board/stm32u585/board_app.c)
# The boot stub's side of boot/boot_port.h (root hash in OTP). Untested on hardware.
set(BW_BOARD_BOOT_SOURCES
  ${BW_PORT_DIR}/boot_u585.c
  ${BW_PORT_DIR}/u585_console.c
  ${BW_PORT_DIR}/u585_layout.c)
