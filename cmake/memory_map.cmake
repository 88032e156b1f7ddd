# Each board's memory map is one table, port/<board>/memory_map.def; what the
# build needs from it is written at configure time by scripts/memory_map.py
# into the build tree (docs/DESIGN.md, "One memory map per board"). An edit
# of the table or the script reconfigures.
#
# bw_memory_map(<args of memory_map.py...>) runs the script, e.g.
#   bw_memory_map(generate qemu-an505 <dir>)   memory_map.h, memory.ld, app.ld,
#                                               memory_map.cmake (BW_MAP_*)
#   bw_memory_map(host-header <file>)           every board's app slot (CLI)
find_package(Python3 REQUIRED COMPONENTS Interpreter)

function(bw_memory_map)
  execute_process(COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/memory_map.py ${ARGN}
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "scripts/memory_map.py ${ARGN} failed")
  endif()
  file(GLOB tables ${PROJECT_SOURCE_DIR}/port/*/memory_map.def)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    ${tables} ${PROJECT_SOURCE_DIR}/scripts/memory_map.py)
endfunction()
