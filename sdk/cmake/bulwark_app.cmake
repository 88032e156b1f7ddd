# bulwark_add_app(<name> SOURCES <files...> [LIBRARIES <libs...>] [FLOAT_ABI hard|soft])
# Builds a non-secure app into <name>.elf and <name>.bin for the configured
# board, linked with the SDK (import library, newlib glue, board console;
# the SDK's start-up unless the app's sources define Reset_Handler) and the
# board's app linker script; checks its interrupt handlers; prints its size.
# The float ABI: FLOAT_ABI, else -mfloat-abi= in CMAKE_C_FLAGS (softfp links
# as soft), else hard; the app is compiled and linked with that variant's flags.
function(bw_app_float_abi out)
  cmake_parse_arguments(F "" "FLOAT_ABI" "" ${ARGN})
  set(abi hard)
  if(CMAKE_C_FLAGS MATCHES "-mfloat-abi=(soft|softfp|hard)")
    set(abi ${CMAKE_MATCH_1})
  endif()
  if(F_FLOAT_ABI)
    set(abi ${F_FLOAT_ABI})
  endif()
  if(abi STREQUAL "softfp")
    set(abi soft)
  endif()
  if(NOT abi MATCHES "^(hard|soft)$")
    message(FATAL_ERROR "FLOAT_ABI ${abi}: hard or soft")
  endif()
  set(${out} ${abi} PARENT_SCOPE)
endfunction()

function(bulwark_add_app name)
  cmake_parse_arguments(APP "" "FLOAT_ABI" "SOURCES;LIBRARIES" ${ARGN})
  bw_app_float_abi(abi FLOAT_ABI ${APP_FLOAT_ABI})
  add_executable(${name} ${APP_SOURCES})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf")
  # -u Reset_Handler: the SDK's start-up object is taken from its archive only
  # when no object of the app defines Reset_Handler (ST's startup file does).
  target_link_libraries(${name} PRIVATE ${APP_LIBRARIES} -Wl,--whole-archive bulwark_sdk_${abi}
    -Wl,--no-whole-archive bulwark_startup_${abi})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:C>:${BW_WARNINGS}>)
  target_link_options(${name} PRIVATE -T${BW_BOARD_APP_LD} -L${PROJECT_SOURCE_DIR}/sdk/ld -L${BW_MAP_DIR}
    -Wl,-u,Reset_Handler --specs=nano.specs -Wl,--gc-sections
    -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map -Wl,--no-warn-rwx-segments)
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${BW_BOARD_APP_LD}
    ${PROJECT_SOURCE_DIR}/sdk/ld/app_sections.ld ${BW_MAP_DIR}/irq_aliases.ld)
  set_target_properties(${name} PROPERTIES BW_FLOAT_ABI ${abi})
  # The handler-table check (scripts/irq_table.py): a handler under a name
  # the board does not know, or outside the vector table, fails the build.
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/irq_table.py check ${BULWARK_TARGET}
      $<TARGET_FILE:${name}> --nm ${CMAKE_NM} --objcopy ${CMAKE_OBJCOPY} --remove yes
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${name}> $<TARGET_FILE_DIR:${name}>/${name}.bin
    COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>)
endfunction()
