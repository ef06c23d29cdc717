# Tests: one GoogleTest program per tests/*_test.cpp, built from Debian's googletest sources so
# the same tests build natively and with Emscripten (run in Node through the crosscompiling
# emulator).
set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
set(gtest_disable_pthreads ON CACHE BOOL "" FORCE)
add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)

# The per-op parity harness: one table of cases run on every backend (ops_parity_test.cpp on the
# CPU; web/test/webgpu_parity.cpp on WebGPU).
file(GLOB HEARTH_PARITY_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/parity/*.cpp)
add_library(hearth_parity STATIC ${HEARTH_PARITY_SOURCES})
target_link_libraries(hearth_parity PUBLIC hearth)
target_include_directories(hearth_parity PUBLIC ${CMAKE_SOURCE_DIR}/tests)

file(GLOB HEARTH_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*_test.cpp)
foreach(src ${HEARTH_TEST_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE hearth hearth_parity gtest gtest_main)
  target_compile_definitions(${name} PRIVATE
    HEARTH_FIXTURES="${HEARTH_FIXTURES}" HEARTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  if(HEARTH_WASM)
    target_link_options(${name} PRIVATE -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1
      -sMAXIMUM_MEMORY=4GB -sEXIT_RUNTIME=1 -sTOTAL_STACK=8MB
      --pre-js ${CMAKE_SOURCE_DIR}/web/node_pre.js)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 1800)
endforeach()

# The CLI end to end, and the malformed-input corpus through it (native build only).
if(NOT HEARTH_WASM)
  add_test(NAME cli_test COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli_test.sh $<TARGET_FILE:hearth_cli>
           ${HEARTH_FIXTURES} ${CMAKE_SOURCE_DIR}/models/pycoder-6m)
  add_test(NAME serve_test COMMAND bash ${CMAKE_SOURCE_DIR}/tests/serve_test.sh $<TARGET_FILE:hearth_cli>
           ${HEARTH_FIXTURES} ${CMAKE_SOURCE_DIR}/models/pycoder-6m)
  add_test(NAME malformed_test COMMAND bash ${CMAKE_SOURCE_DIR}/tests/malformed/malformed_test.sh
           $<TARGET_FILE:hearth_cli> ${HEARTH_FIXTURES} ${CMAKE_SOURCE_DIR}/models/pycoder-6m
           ${CMAKE_BINARY_DIR}/malformed)
  add_test(NAME train_cli_test COMMAND bash ${CMAKE_SOURCE_DIR}/tests/train_cli_test.sh $<TARGET_FILE:hearth_cli>
           ${HEARTH_FIXTURES} ${CMAKE_SOURCE_DIR}/models/pycoder-6m)
endif()
