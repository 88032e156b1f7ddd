# TEMPLATE board description for the build (TODO: your board's).
# The top-level CMakeLists.txt includes port/${BULWARK_TARGET}/board.cmake with
# BW_PORT_DIR set to this folder, after it made the board's memory map from
# memory_map.def (BW_MAP_* variables, BW_BOARD_GATE_BASE, BW_BOARD_APP_LD),
# and expects these three variables:
#   BW_BOARD_IRQ_COUNT       NVIC lines (sizes the kernel's and the app's vector tables)
#   BW_BOARD_KERNEL_SOURCES  this port's C files, linked into the kernel
#   BW_BOARD_APP_SOURCES     the SDK's board support for apps (console, exit)
set(BW_BOARD_IRQ_COUNT 64)
set(BW_BOARD_KERNEL_SOURCES
  ${BW_PORT_DIR}/board_template.c
  ${BW_PORT_DIR}/port_template.c)
set(BW_BOARD_APP_SOURCES ${PROJECT_SOURCE_DIR}/sdk/board/template/board_app.c)   # TODO: write it
# The boot stub's side of boot/boot_port.h (console, root hash, halt).
set(BW_BOARD_BOOT_SOURCES ${BW_PORT_DIR}/boot_template.c)
