# The boot stub's checks (docs/SPEC.md §19.3): the good boot, and each refusal
# printing its reason and never starting the kernel (the stub ends the
# emulation with exit code 3). The refused kernels are made from the build's
# signed kernel by make_kernel_variants.py (fixture qemu.secboot.variants).
set(BW_SECBOOT_VARIANTS ${CMAKE_CURRENT_BINARY_DIR}/work/secboot-variants)
set(BW_KERNEL_SIGNED $<TARGET_FILE_DIR:bulwark-kernel>/bulwark-kernel.signed)
add_test(NAME qemu.secboot.variants
  COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/make_kernel_variants.py --bulwark ${BW_CLI}
    --keys ${BW_KERNEL_KEYS_DIR} --bin $<TARGET_FILE_DIR:bulwark-kernel>/bulwark-kernel.bin
    --signed ${BW_KERNEL_SIGNED} --version ${BW_KERNEL_VERSION} --out ${BW_SECBOOT_VARIANTS})
set_tests_properties(qemu.secboot.variants PROPERTIES FIXTURES_SETUP secboot_variants LABELS qemu
  SKIP_RETURN_CODE 77)

# bw_secboot_test(<name> <kernel file> [run_test.py args...])
function(bw_secboot_test name kernel)
  add_test(NAME qemu.secboot.${name}
    COMMAND ${BW_RUN_TEST} --name qemu.secboot.${name} --emu ${BW_EMU}
      --boot $<TARGET_FILE:bulwark-boot> --kernel ${kernel} --app $<TARGET_FILE:hello>
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/secboot.${name} --timeout 20 ${ARGN})
  set_tests_properties(qemu.secboot.${name} PROPERTIES TIMEOUT 60 LABELS qemu
    FIXTURES_REQUIRED secboot_variants)
endfunction()

# The counter equal to the kernel's version (0.1.0 = 0x00010000) still boots.
bw_secboot_test(good ${BW_KERNEL_SIGNED} --rollback 0x00010000
  --expect-kernel "^\\[boot\\] kernel ${BW_KERNEL_VERSION} verified$"
  --expect-kernel "^\\[kernel\\] Bulwark kernel .* on qemu-an505"
  --expect-kernel "\\[app-log\\] hello logs through the kernel"
  --expect-kernel-count "\\[boot\\]=1" --reject-kernel "refused")

# name, kernel file, the reason the stub prints (a regex), run_test.py args
function(bw_secboot_refusal name kernel reason)
  bw_secboot_test(${name} ${kernel} --expect-exit 3 ${ARGN}
    --expect-kernel "^\\[boot\\] kernel refused: ${reason}$"
    --expect-kernel-count "\\[boot\\]=1" --reject-kernel "Bulwark kernel")
endfunction()
bw_secboot_refusal(unsigned $<TARGET_FILE:bulwark-kernel> "no kernel \\(the seal area is erased\\)")
bw_secboot_refusal(garbage ${BW_SECBOOT_VARIANTS}/garbage.signed
  "malformed seal \\(magic, version, size or reserved bytes\\)")
bw_secboot_refusal(bad-signature ${BW_SECBOOT_VARIANTS}/bad-signature.signed "bad kernel signature")
bw_secboot_refusal(tampered ${BW_SECBOOT_VARIANTS}/tampered.signed "kernel image tampered \\(hash mismatch\\)")
bw_secboot_refusal(other-root ${BW_SECBOOT_VARIANTS}/other-root.signed "certificate chain to an unknown root")
bw_secboot_refusal(not-by-root ${BW_SECBOOT_VARIANTS}/not-by-root.signed "certificate not signed by the root")
bw_secboot_refusal(wrong-usage ${BW_SECBOOT_VARIANTS}/wrong-usage.signed "certificate not for kernel signing")
set(BW_SECBOOT_EXPIRED "certificate not valid when the kernel was signed \\(expired or not yet valid\\)")
bw_secboot_refusal(expired ${BW_SECBOOT_VARIANTS}/expired.signed "${BW_SECBOOT_EXPIRED}")
bw_secboot_refusal(not-yet-valid ${BW_SECBOOT_VARIANTS}/not-yet-valid.signed "${BW_SECBOOT_EXPIRED}")
bw_secboot_refusal(rollback ${BW_KERNEL_SIGNED} "kernel version below the anti-rollback counter"
  --rollback 0x00010001)
