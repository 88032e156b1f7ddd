# Kernel signing for the qemu-an505 build (docs/SPEC.md §19): a test kernel
# root and a kernel-signing key with its certificate, made once per build tree
# with the host CLI (BW_HOST_TOOLS_DIR, built first by `make`) in
# kernel-keys/; the boot stub trusts that root (boot_root_hash.h, generated),
# and bw_add_kernel seals every kernel it builds into <kernel>.signed, the
# file tests and tools program into the kernel slot. The STM32U585 stub reads
# its root hash from OTP and needs none of this.
set(BW_HOST_TOOLS_DIR "${PROJECT_SOURCE_DIR}/build/host" CACHE PATH
  "host build directory holding cli/bulwark (and the other host tools)")
set(BW_CLI ${BW_HOST_TOOLS_DIR}/cli/bulwark)
set(BW_KERNEL_KEYS_DIR ${CMAKE_BINARY_DIR}/kernel-keys)
set(BW_BOOT_GENERATED_DIR ${CMAKE_BINARY_DIR}/boot-generated)
file(STRINGS ${PROJECT_SOURCE_DIR}/kernel/include/bw_version.h BW_KERNEL_VERSION
  REGEX "#define BW_KERNEL_VERSION_STRING")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" BW_KERNEL_VERSION "${BW_KERNEL_VERSION}")

set(BW_KERNEL_ROOT ${BW_KERNEL_KEYS_DIR}/root)
set(BW_KERNEL_SIGNER ${BW_KERNEL_KEYS_DIR}/signer)
add_custom_command(OUTPUT ${BW_KERNEL_ROOT}.pub ${BW_KERNEL_SIGNER}.key ${BW_KERNEL_SIGNER}.crt
  COMMAND ${CMAKE_COMMAND} -E make_directory ${BW_KERNEL_KEYS_DIR}
  COMMAND ${BW_CLI} keys generate --force -o ${BW_KERNEL_ROOT} >/dev/null
  COMMAND ${BW_CLI} keys kernel-signer --force --root ${BW_KERNEL_ROOT}.key -o ${BW_KERNEL_SIGNER} >/dev/null
  COMMENT "Making the build's test kernel root and signing key (kernel-keys/)")
add_custom_command(OUTPUT ${BW_BOOT_GENERATED_DIR}/boot_root_hash.h
  COMMAND ${CMAKE_COMMAND} -DCLI=${BW_CLI} -DKEY=${BW_KERNEL_ROOT}.pub
    -DOUT=${BW_BOOT_GENERATED_DIR}/boot_root_hash.h -P ${PROJECT_SOURCE_DIR}/cmake/root_hash_header.cmake
  DEPENDS ${BW_KERNEL_ROOT}.pub ${PROJECT_SOURCE_DIR}/cmake/root_hash_header.cmake)
add_custom_target(bw_kernel_keys DEPENDS ${BW_KERNEL_SIGNER}.key ${BW_KERNEL_SIGNER}.crt
  ${BW_BOOT_GENERATED_DIR}/boot_root_hash.h)

# bw_sign_kernel(<kernel target>): <dir>/<target>.signed after every link.
function(bw_sign_kernel target)
  add_dependencies(${target} bw_kernel_keys)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary --gap-fill 0xff $<TARGET_FILE:${target}>
      $<TARGET_FILE_DIR:${target}>/${target}.bin
    COMMAND ${BW_CLI} kernel sign $<TARGET_FILE_DIR:${target}>/${target}.bin --force
      --key ${BW_KERNEL_SIGNER}.key --cert ${BW_KERNEL_SIGNER}.crt --root ${BW_KERNEL_ROOT}.pub
      --version ${BW_KERNEL_VERSION} --board qemu-an505 -o $<TARGET_FILE_DIR:${target}>/${target}.signed >/dev/null)
endfunction()
