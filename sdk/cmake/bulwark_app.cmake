# bulwark_add_app(<name> SOURCES <files...> [LIBRARIES <libs...>])
# Builds a non-secure app into <name>.elf and <name>.bin for the configured
# board, linked with the SDK (start-up, newlib glue, import library) and the
# board's app linker script; prints its size.
function(bulwark_add_app name)
  cmake_parse_arguments(APP "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${name} ${APP_SOURCES})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf")
  target_link_libraries(${name} PRIVATE ${APP_LIBRARIES} -Wl,--whole-archive bulwark_sdk
    -Wl,--no-whole-archive)
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:C>:${BW_WARNINGS}>)
  target_link_options(${name} PRIVATE -T${BW_BOARD_APP_LD} -L${PROJECT_SOURCE_DIR}/sdk/ld
    --specs=nano.specs -Wl,--gc-sections -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map
    -Wl,--no-warn-rwx-segments)
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${BW_BOARD_APP_LD}
    ${PROJECT_SOURCE_DIR}/sdk/ld/app_sections.ld)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${name}> $<TARGET_FILE_DIR:${name}>/${name}.bin
    COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>)
endfunction()
