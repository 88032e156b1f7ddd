# Host unit tests of the STM32U585 port: its pure decisions (u585_layout.c)
# and its flash driver against a model of the FLASH controller
# (u585_flash.c, with the core's bw_flash.c in front). Included by
# tests/unit/CMakeLists.txt on the host target, after it found cmocka
# (CMOCKA_LIB, CMOCKA_INCLUDE_DIR) and set BW_WARNINGS; the port's memory_map.h is
# generated into board/stm32u585 of the build tree (top-level CMakeLists.txt).
get_filename_component(BW_U585_TOP "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
add_executable(test_u585_layout
  ${BW_U585_TOP}/tests/unit/test_u585_layout.c
  ${CMAKE_CURRENT_LIST_DIR}/u585_layout.c)
target_include_directories(test_u585_layout PRIVATE
  ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_BINARY_DIR}/board/stm32u585 ${BW_U585_TOP}/kernel/core/include
  ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_u585_layout PRIVATE ${CMOCKA_LIB})
target_compile_options(test_u585_layout PRIVATE ${BW_WARNINGS})
add_test(NAME unit.u585_layout COMMAND test_u585_layout)

add_executable(test_u585_flash
  ${BW_U585_TOP}/tests/unit/test_u585_flash.c
  ${CMAKE_CURRENT_LIST_DIR}/u585_flash.c
  ${CMAKE_CURRENT_LIST_DIR}/u585_layout.c
  ${BW_U585_TOP}/kernel/core/src/bw_flash.c
  ${BW_U585_TOP}/kernel/core/src/bw_flash_stats.c)
target_include_directories(test_u585_flash PRIVATE
  ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_BINARY_DIR}/board/stm32u585 ${BW_U585_TOP}/kernel/core/include
  ${BW_U585_TOP}/kernel/include
  ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_u585_flash PRIVATE ${CMOCKA_LIB})
target_compile_options(test_u585_flash PRIVATE ${BW_WARNINGS})
add_test(NAME unit.u585_flash COMMAND test_u585_flash)
