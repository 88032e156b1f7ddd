# qemu-an505 board description for the build (its map: memory_map.def).
set(BW_BOARD_IRQ_COUNT 96)
set(BW_BOARD_KERNEL_SOURCES
  ${BW_PORT_DIR}/board_qemu.c
  ${BW_PORT_DIR}/port_qemu.c
  ${BW_PORT_DIR}/flash_qemu.c
  ${BW_PORT_DIR}/flash_qemu_device.c
  ${BW_PORT_DIR}/cmsdk_uart.c
  ${BW_PORT_DIR}/serial_links.c
  ${BW_PORT_DIR}/semihosting.c)
set(BW_BOARD_APP_SOURCES ${PROJECT_SOURCE_DIR}/sdk/board/qemu-an505/board_app.c)
# The boot stub's side of boot/boot_port.h (root hash: generated, see kernel/signing.cmake).
set(BW_BOARD_BOOT_SOURCES
  ${BW_PORT_DIR}/boot_qemu.c
  ${BW_PORT_DIR}/flash_qemu_device.c
  ${BW_PORT_DIR}/cmsdk_uart.c
  ${BW_PORT_DIR}/semihosting.c)
