# Kernel signing for the qemu-an505 build (docs/SPEC.md §19): a test kernel
# root and a kernel-signing key with its certificate, made once per build tree
# with the host CLI (BW_HOST_TOOLS_DIR, built first by `make`) in
# kernel-keys/; the boot stub trusts that root (boot_root_hash.h, generated),
# and bw_add_kernel seals every kernel it builds into <kernel>.signed, the
# file tests and tools program into the kernel slot. The STM32U585 stub reads
# its root hash from OTP (programmed at provisioning), not from the build; its
# kernel is sealed here all the same, with the gate's page (SPEC §19.2).
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

# The gate's region is sealed after the image where the board's map puts it
# outside the kernel slot (STM32U585; docs/SPEC.md §19.2).
math(EXPR bw_gate_lo "${BW_MAP_GATE_BASE}")
math(EXPR bw_gate_hi "${BW_MAP_GATE_BASE} + ${BW_MAP_GATE_SIZE}")
math(EXPR bw_slot_lo "${BW_MAP_KERNEL_SLOT_BASE}")
math(EXPR bw_slot_hi "${BW_MAP_KERNEL_SLOT_BASE} + ${BW_MAP_KERNEL_SLOT_SIZE}")
if(bw_gate_lo LESS bw_slot_lo OR bw_gate_hi GREATER bw_slot_hi)
  set(BW_GATE_SEALED_APART ON)
else()
  set(BW_GATE_SEALED_APART OFF)
endif()

# bw_sign_kernel(<kernel target>): <dir>/<target>.signed after every link:
# <target>.bin (the slot's bytes), and where the gate lies apart, its
# region's bytes (<target>.gate.bin) sealed after them.
function(bw_sign_kernel target)
  add_dependencies(${target} bw_kernel_keys)
  set(dir $<TARGET_FILE_DIR:${target}>)
  if(BW_GATE_SEALED_APART)
    set(split --remove-section=.gate)
    set(gate_cmd COMMAND ${CMAKE_OBJCOPY} -O binary -j .gate $<TARGET_FILE:${target}> ${dir}/${target}.gate.bin)
    set(gate_arg --gate ${dir}/${target}.gate.bin)
  else()
    set(split "")
    set(gate_cmd "")
    set(gate_arg "")
  endif()
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary --gap-fill 0xff ${split} $<TARGET_FILE:${target}> ${dir}/${target}.bin
    ${gate_cmd}
    COMMAND ${BW_CLI} kernel sign ${dir}/${target}.bin ${gate_arg} --force
      --key ${BW_KERNEL_SIGNER}.key --cert ${BW_KERNEL_SIGNER}.crt --root ${BW_KERNEL_ROOT}.pub
      --version ${BW_KERNEL_VERSION} --board ${BULWARK_TARGET} -o ${dir}/${target}.signed >/dev/null)
endfunction()
