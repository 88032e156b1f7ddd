# The app attacks the kernel (issue 14, attacks 1-7; apps/hostile/main.c says
# what each case does and promises). Each attack must end as an app crash the
# kernel records with its class, restarting the app in place (wake reason 8)
# and still serving calls, with no chip reset ("Bulwark kernel=1") and no
# kernel fault ("KERNEL"); nested_calls must not crash at all. The app checks
# class, context and counts through bwGetLastCrash; here the kernel log must
# agree. --icount-warp: guest time counts instructions, idle time costs none.
#
# HOSTILE_SEEN_<case>: "<class> in <context>" regex and how many crashes show it.
set(HOSTILE_SEEN_svc_forged_excreturn "invalid-state in thread mode=3"
    "invalid-state in handler mode \\(frame lost\\)=1")   # no frame on a forged return: main.c
set(HOSTILE_SEEN_gate_lr_fnc_return "bad-kernel-call in thread mode=2")
set(HOSTILE_SEEN_gate_lr_exc_return "bad-kernel-call in IRQ 50 handler=2"
    "bad-kernel-call in SVC handler=1")
set(HOSTILE_SEEN_fnc_return_thread "invalid-state in thread mode=2")
set(HOSTILE_SEEN_excreturn_into_gate "bad-kernel-call in thread mode=2")
set(HOSTILE_SEEN_vtor_secure "invalid-access in thread mode=2" "secure-access in IRQ 64 handler=1")
set(HOSTILE_SEEN_fp_lazy_secure "invalid-state in thread mode=3")
set(HOSTILE_SEEN_stopped_app_runs "undefined-instruction in thread mode=2")
set(HOSTILE_SEEN_abandoned_frames "bad-kernel-call in thread mode=2")
set(HOSTILE_SEEN_hang_wfi_spin "hang in thread mode=1")
set(HOSTILE_SEEN_ns_watchdog "secure-access in thread mode=1")
set(HOSTILE_EXTRA_stopped_app_runs --expect-kernel-count "restarting the app in 100 ms=1")

get_property(BW_HOSTILE_CASES GLOBAL PROPERTY BW_HOSTILE_CASES)
foreach(case IN LISTS BW_HOSTILE_CASES)
  string(REPLACE "_" "-" app "qt-hostile-${case}")
  if(case STREQUAL "nested_calls")
    bw_qemu_test(hostile.${case} APP ${app} TIMEOUT 40 ARGS --icount-warp
      --expect-app "^hostile: [0-9]+ checks, 0 failed$"
      --reject-kernel "app crash" --reject-kernel "KERNEL"
      --expect-kernel-count "app starting \\(wake reason 0\\)=1"
      --expect-kernel-count "app starting \\(wake reason 2\\)=1"
      # The deepest kernel stack use, logged at the restart, includes the
      # nesting: 2 figures (boot, then nesting), both under 4000 of 8192.
      --expect-kernel-count "kernel stack: at most [0-9]+ of 8192 bytes=2"
      --reject-kernel "kernel stack: at most [0-9]{5,}|kernel stack: at most [4-9][0-9]{3} "
      --expect-kernel-count "Bulwark kernel=1")
    continue()
  endif()
  set(crashes 0)
  set(seen_checks "")
  foreach(seen IN LISTS HOSTILE_SEEN_${case})
    string(REGEX REPLACE "^(.*)=([0-9]+)$" "\\1" what "${seen}")
    string(REGEX REPLACE "^(.*)=([0-9]+)$" "\\2" count "${seen}")
    math(EXPR crashes "${crashes} + ${count}")
    list(APPEND seen_checks --expect-kernel-count "crash class: ${what} \\(=${count}")
  endforeach()
  bw_qemu_test(hostile.${case} APP ${app} TIMEOUT 40 ARGS --icount-warp
    --expect-app "^hostile: [0-9]+ checks, 0 failed$"
    --expect-kernel-count "app crash:=${crashes}"
    ${seen_checks}
    --expect-kernel-count "crash record [0-9]+ saved in flash=${crashes}"
    --expect-kernel-count "app starting \\(wake reason 8\\)=${crashes}"
    ${HOSTILE_EXTRA_${case}}
    --reject-kernel "KERNEL"
    --expect-kernel-count "Bulwark kernel=1")
endforeach()

# The same attacks from an app on trial (apps/hostile, HOSTILE_TRIAL): a
# device running app A receives it as version 2; each start ends in an app
# crash of the class named here, and after the crash loop the kernel rolls
# back to A, which reads why (run_hostile_trial.py). Skipped (77) without
# the host CLI.
set(HOSTILE_TRIAL_CLASS_svc_forged_excreturn invalid-state)
set(HOSTILE_TRIAL_CLASS_gate_lr_fnc_return bad-kernel-call)
set(HOSTILE_TRIAL_CLASS_vtor_secure invalid-access)
set(HOSTILE_TRIAL_CLASS_fp_lazy_secure invalid-state)
set(HOSTILE_TRIAL_CLASS_stopped_app_runs undefined-instruction)
set(HOSTILE_TRIAL_CLASS_abandoned_frames bad-kernel-call)
set(HOSTILE_TRIAL_CLASS_hang_wfi_spin hang)
set(HOSTILE_TRIAL_CLASS_ns_watchdog secure-access)
get_property(BW_HOSTILE_TRIAL_CASES GLOBAL PROPERTY BW_HOSTILE_TRIAL_CASES)
foreach(case IN LISTS BW_HOSTILE_TRIAL_CASES)
  string(REPLACE "_" "-" app "qt-hostile-trial-${case}")
  add_test(NAME qemu.hostile-trial.${case}
    COMMAND ${PROJECT_SOURCE_DIR}/tests/qemu/run_hostile_trial.py --name qemu.hostile-trial.${case}
      ${BW_UPDATE_TEST_ARGS} --app-h $<TARGET_FILE_DIR:${app}>/${app}.bin
      --expect-class ${HOSTILE_TRIAL_CLASS_${case}}
      --workdir ${CMAKE_CURRENT_BINARY_DIR}/work/hostile-trial.${case})
  set_tests_properties(qemu.hostile-trial.${case} PROPERTIES TIMEOUT 90 LABELS qemu
    SKIP_RETURN_CODE 77)
endforeach()
