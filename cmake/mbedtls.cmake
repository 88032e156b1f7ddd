# Builds mbedTLS from Debian's source package (fetched by scripts/setup.sh into
# .cache/mbedtls, or MBEDTLS_SOURCE_DIR) as a static library configured by our
# own config header. Usage: bw_add_mbedtls(<target> <config-header> [<extra compile options>...])
set(MBEDTLS_SOURCE_DIR "$ENV{MBEDTLS_SOURCE_DIR}" CACHE PATH "mbedTLS source tree")
if(NOT MBEDTLS_SOURCE_DIR)
  set(MBEDTLS_SOURCE_DIR "${PROJECT_SOURCE_DIR}/.cache/mbedtls" CACHE PATH "mbedTLS source tree" FORCE)
endif()
if(NOT EXISTS "${MBEDTLS_SOURCE_DIR}/include/mbedtls/version.h")
  message(FATAL_ERROR "No mbedTLS source at ${MBEDTLS_SOURCE_DIR}: run scripts/setup.sh "
                      "(or make setup), or set MBEDTLS_SOURCE_DIR")
endif()

function(bw_add_mbedtls target config_header)
  file(GLOB srcs "${MBEDTLS_SOURCE_DIR}/library/*.c")
  # p256-m (3rdparty): compiled to nothing unless the config enables
  # MBEDTLS_PSA_P256M_DRIVER_ENABLED; its PSA driver entry points are left out.
  # Our P-256 verify (kernel/crypto/bw_p256_verify.c) rides along: it compiles
  # p256-m.c inside its own unit, with this library's configuration.
  set(verify "${PROJECT_SOURCE_DIR}/kernel/crypto/bw_p256_verify.c")
  add_library(${target} STATIC ${srcs} "${MBEDTLS_SOURCE_DIR}/3rdparty/p256-m/p256-m/p256-m.c" ${verify})
  target_include_directories(${target} SYSTEM PUBLIC "${MBEDTLS_SOURCE_DIR}/include"
                                                     "${MBEDTLS_SOURCE_DIR}/3rdparty/p256-m")
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/kernel/crypto")
  # The verify at -O3 in every library (the kernel's is -O2): see docs/DESIGN.md, Boot.
  set_source_files_properties(${verify} PROPERTIES COMPILE_OPTIONS "-O3")
  target_compile_definitions(${target} PUBLIC "MBEDTLS_CONFIG_FILE=\"${config_header}\"")
  # Third-party code: our -Werror set is not applied to it.
  target_compile_options(${target} PRIVATE -w ${ARGN})
endfunction()
