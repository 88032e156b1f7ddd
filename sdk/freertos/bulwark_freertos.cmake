# FreeRTOS apps. FreeRTOS-Kernel is never part of this repository: it comes
# from FREERTOS_KERNEL_PATH (-DFREERTOS_KERNEL_PATH=..., else the environment
# variable of that name: the pico-sdk convention). Included by the top-level
# CMakeLists.txt for the board targets; sets BW_FREERTOS_FOUND, and defines
#
# bulwark_add_freertos_app(<name> SOURCES <files...> [LIBRARIES <libs...>]
#                          [CONFIG <configNAME=value...>] [FLOAT_ABI hard|soft])
#   bulwark_add_app() plus: the FreeRTOS kernel (tasks, queue, list, timers,
#   event groups, stream buffers, heap_4, the ARM_CM33_NTZ/non_secure port)
#   compiled for this app with sdk/freertos/FreeRTOSConfig.h, CONFIG values
#   overriding its defaults (in the app and its kernel alike); the SDK's
#   FreeRTOS glue (bw_freertos.h) and guard: bulwark_freertos_guard() below,
#   which an app that builds its own FreeRTOS calls instead.
#   FreeRTOS is third-party code: compiled without our -Werror warning set.

set(FREERTOS_KERNEL_PATH "" CACHE PATH
  "FreeRTOS-Kernel checkout for FreeRTOS apps (empty: the FREERTOS_KERNEL_PATH environment variable)")
set(BW_FREERTOS_KERNEL_PATH "${FREERTOS_KERNEL_PATH}")
if(NOT BW_FREERTOS_KERNEL_PATH AND DEFINED ENV{FREERTOS_KERNEL_PATH})
  set(BW_FREERTOS_KERNEL_PATH "$ENV{FREERTOS_KERNEL_PATH}")
endif()

set(BW_FREERTOS_FOUND FALSE)
if(NOT BW_FREERTOS_KERNEL_PATH)
  message(NOTICE "FreeRTOS apps and tests skipped: set FREERTOS_KERNEL_PATH to a "
    "FreeRTOS-Kernel checkout (README: Getting FreeRTOS)")
  return()
endif()

get_filename_component(BW_FREERTOS_KERNEL_PATH "${BW_FREERTOS_KERNEL_PATH}" ABSOLUTE)
set(BW_FREERTOS_PORT_DIR "${BW_FREERTOS_KERNEL_PATH}/portable/GCC/ARM_CM33_NTZ/non_secure")
foreach(required tasks.c include/task.h ${BW_FREERTOS_PORT_DIR}/portasm.c)
  if(NOT IS_ABSOLUTE "${required}")
    set(required "${BW_FREERTOS_KERNEL_PATH}/${required}")
  endif()
  if(NOT EXISTS "${required}")
    message(FATAL_ERROR "FREERTOS_KERNEL_PATH=${BW_FREERTOS_KERNEL_PATH} is not a FreeRTOS-Kernel "
      "checkout with the ARM_CM33_NTZ port (no ${required}); README: Getting FreeRTOS")
  endif()
endforeach()
file(STRINGS "${BW_FREERTOS_KERNEL_PATH}/include/task.h" BW_FREERTOS_VERSION
  REGEX "define tskKERNEL_VERSION_NUMBER")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" BW_FREERTOS_VERSION "${BW_FREERTOS_VERSION}")
if(NOT BW_FREERTOS_VERSION MATCHES "^V1[1-9]\\.")
  message(WARNING "FreeRTOS-Kernel ${BW_FREERTOS_VERSION}: Bulwark's FreeRTOS glue is tested with V11.2.0")
endif()
message(STATUS "FreeRTOS apps: FreeRTOS-Kernel ${BW_FREERTOS_VERSION} from ${BW_FREERTOS_KERNEL_PATH}")
set(BW_FREERTOS_FOUND TRUE)

# The CPU clock the kernel leaves running (configCPU_CLOCK_HZ; SysTick's clock).
if(NOT DEFINED BW_BOARD_SYSCLK_HZ)
  if(BULWARK_TARGET STREQUAL "qemu-an505")
    set(BW_BOARD_SYSCLK_HZ 20000000)
  elseif(BULWARK_TARGET STREQUAL "stm32u585")
    set(BW_BOARD_SYSCLK_HZ 4000000)   # MSI 4 MHz: port/stm32u585/board.h BOARD_SYSCLK_HZ
  else()
    message(FATAL_ERROR "FreeRTOS apps: no CPU clock known for board ${BULWARK_TARGET}")
  endif()
endif()

set(BW_FREERTOS_KERNEL_SOURCES
  ${BW_FREERTOS_KERNEL_PATH}/tasks.c
  ${BW_FREERTOS_KERNEL_PATH}/queue.c
  ${BW_FREERTOS_KERNEL_PATH}/list.c
  ${BW_FREERTOS_KERNEL_PATH}/timers.c
  ${BW_FREERTOS_KERNEL_PATH}/event_groups.c
  ${BW_FREERTOS_KERNEL_PATH}/stream_buffer.c
  ${BW_FREERTOS_KERNEL_PATH}/portable/MemMang/heap_4.c
  ${BW_FREERTOS_PORT_DIR}/port.c
  ${BW_FREERTOS_PORT_DIR}/portasm.c)
set(BW_FREERTOS_GLUE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(BW_FREERTOS_GLUE_SOURCES
  ${BW_FREERTOS_GLUE_DIR}/bw_freertos.c
  ${BW_FREERTOS_GLUE_DIR}/bw_freertos_switch.S)

# -Wl,--wrap=<call> for every system call (the wrappers: bw_freertos_switch.S).
file(STRINGS "${BW_SYSCALLS_DEF}" bw_syscall_lines REGEX "^MV_SYSCALL\\(")
set(BW_FREERTOS_WRAP_OPTIONS "")
foreach(line IN LISTS bw_syscall_lines)
  string(REGEX REPLACE "^MV_SYSCALL\\([0-9]+, *([A-Za-z0-9_]+),.*" "\\1" call "${line}")
  list(APPEND BW_FREERTOS_WRAP_OPTIONS "-Wl,--wrap=${call}")
endforeach()

# bulwark_freertos_guard(<app> FREERTOS <target>)
#   The guard against task switches inside a kernel call (docs/DESIGN.md,
#   "FreeRTOS apps without edits"), for an app whose FreeRTOS (and CMSIS-RTOS
#   v2 wrapper, if any) its own build compiles into <target>, the
#   ARM_CM33_NTZ/non_secure port: on <target>, the port's PendSV and SysTick
#   handlers renamed and the wrapper's SysTick_Handler and FreeRTOS's handler
#   installation check off (compile definitions); on <app>, the SDK's guards
#   (bw_freertos.c, bw_freertos_switch.S), which take those vectors, and every
#   mv* call wrapped at link time. No source of the app changes.
function(bulwark_freertos_guard app)
  cmake_parse_arguments(G "" "FREERTOS" "" ${ARGN})
  target_compile_definitions(${G_FREERTOS} PRIVATE
    PendSV_Handler=xPortPendSVHandler SysTick_Handler=xPortSysTickHandler
    USE_CUSTOM_SYSTICK_HANDLER_IMPLEMENTATION=1 configCHECK_HANDLER_INSTALLATION=0)
  target_sources(${app} PRIVATE ${BW_FREERTOS_GLUE_SOURCES})
  target_include_directories(${app} PRIVATE ${BW_FREERTOS_GLUE_DIR}
    ${PROJECT_SOURCE_DIR}/sdk)   # bw_freertos.h; syscalls.def
  target_link_options(${app} PRIVATE ${BW_FREERTOS_WRAP_OPTIONS})
endfunction()

function(bulwark_add_freertos_app name)
  cmake_parse_arguments(APP "" "FLOAT_ABI" "SOURCES;LIBRARIES;CONFIG" ${ARGN})
  bw_app_float_abi(abi FLOAT_ABI ${APP_FLOAT_ABI})
  set(definitions BW_FREERTOS_CPU_CLOCK_HZ=${BW_BOARD_SYSCLK_HZ} ${APP_CONFIG})
  set(includes ${BW_FREERTOS_KERNEL_PATH}/include ${BW_FREERTOS_PORT_DIR})

  # This app's FreeRTOS kernel: its configuration (the SDK's FreeRTOSConfig.h
  # and CONFIG), the SDK's flags, no -Werror.
  add_library(${name}_freertos OBJECT ${BW_FREERTOS_KERNEL_SOURCES})
  target_include_directories(${name}_freertos PRIVATE ${BW_FREERTOS_GLUE_DIR} ${includes}
    $<TARGET_PROPERTY:bulwark_sdk_${abi},INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(${name}_freertos PRIVATE ${definitions})
  target_compile_options(${name}_freertos PRIVATE
    $<TARGET_PROPERTY:bulwark_sdk_${abi},INTERFACE_COMPILE_OPTIONS> -w)

  bulwark_add_app(${name} SOURCES ${APP_SOURCES}
    LIBRARIES ${name}_freertos ${APP_LIBRARIES} FLOAT_ABI ${abi})
  # FreeRTOS headers are not ours: included as system headers in the app.
  target_include_directories(${name} SYSTEM PRIVATE ${includes})
  target_compile_definitions(${name} PRIVATE ${definitions})
  bulwark_freertos_guard(${name} FREERTOS ${name}_freertos)
endfunction()
