# libFuzzer targets (clang: -fsanitize=fuzzer,address,undefined), one per parser and for the
# chat-template engine. They link a library of just the code they reach (core, formats,
# tokenizer, chat, the LoRA loaders, GGUF checkpoints, config-derived sizes, block formats),
# built with the sanitizers, so that building them all takes a few minutes on 2 cores.
# scripts/fuzz.sh builds and runs them.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "HEARTH_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()

set(HEARTH_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  -gline-tables-only -O1)
file(GLOB HEARTH_FUZZ_LIB_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/src/core/*.cpp ${CMAKE_SOURCE_DIR}/src/formats/*.cpp
  ${CMAKE_SOURCE_DIR}/src/tokenizer/*.cpp ${CMAKE_SOURCE_DIR}/src/chat/*.cpp)
list(APPEND HEARTH_FUZZ_LIB_SOURCES
  ${CMAKE_SOURCE_DIR}/src/model/lora.cpp ${CMAKE_SOURCE_DIR}/src/model/hf_layout.cpp
  ${CMAKE_SOURCE_DIR}/src/model/memory_estimate.cpp ${CMAKE_SOURCE_DIR}/src/model/rope.cpp
  ${CMAKE_SOURCE_DIR}/src/model/gguf_checkpoint.cpp ${CMAKE_SOURCE_DIR}/src/model/gguf_lora.cpp
  ${CMAKE_SOURCE_DIR}/src/model/tensor_source.cpp ${CMAKE_SOURCE_DIR}/src/model/checkpoint_checks.cpp
  ${CMAKE_SOURCE_DIR}/src/model/packed_checkpoint.cpp
  ${CMAKE_SOURCE_DIR}/src/ops/quantize.cpp ${CMAKE_SOURCE_DIR}/src/ops/quantize_int4.cpp
  ${CMAKE_SOURCE_DIR}/src/ops/block_formats.cpp
  ${HEARTH_UNICODE_TABLES})
add_library(hearth_fuzz_lib STATIC ${HEARTH_FUZZ_LIB_SOURCES})
target_include_directories(hearth_fuzz_lib PUBLIC ${CMAKE_SOURCE_DIR}/src PRIVATE ${CMAKE_BINARY_DIR}/generated)
target_compile_options(hearth_fuzz_lib PUBLIC ${HEARTH_FUZZ_FLAGS} PRIVATE -fsanitize=fuzzer-no-link)
target_link_options(hearth_fuzz_lib PUBLIC -fsanitize=address,undefined)
target_link_libraries(hearth_fuzz_lib PUBLIC Threads::Threads)

set(HEARTH_FUZZ_TARGETS safetensors json_config tokenizer_load tokenizer_text chat_template lora regex gguf)
add_custom_target(hearth_fuzzers)
foreach(t ${HEARTH_FUZZ_TARGETS})
  add_executable(fuzz_${t} ${CMAKE_SOURCE_DIR}/fuzz/fuzz_${t}.cpp)
  target_compile_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_${t} PRIVATE hearth_fuzz_lib)
  target_include_directories(fuzz_${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)  # gguf_fuzz_entry.h
  target_compile_definitions(fuzz_${t} PRIVATE HEARTH_FUZZ_MODELS="${CMAKE_SOURCE_DIR}/models"
                             HEARTH_FIXTURES="${HEARTH_FIXTURES}")
  add_dependencies(hearth_fuzzers fuzz_${t})
endforeach()
