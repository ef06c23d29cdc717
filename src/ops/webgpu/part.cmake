# WebGPU backend build part. The backend (C++ recording + the JS bridge imports) is compiled
# into the hearth library only in Emscripten builds; native builds never see it (the top-level
# glob of src/ops/*.cpp also picks these files up, so they are taken out again here). The WGSL
# kernels in wgsl/ are embedded as strings at build time.
file(GLOB HEARTH_WEBGPU_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
get_target_property(hearth_srcs hearth SOURCES)
list(REMOVE_ITEM hearth_srcs ${HEARTH_WEBGPU_SOURCES})
set_property(TARGET hearth PROPERTY SOURCES ${hearth_srcs})

if(EMSCRIPTEN)
  file(GLOB HEARTH_WGSL CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/wgsl/*.wgsl)
  list(SORT HEARTH_WGSL)
  set(HEARTH_WGSL_CPP ${CMAKE_BINARY_DIR}/generated/webgpu_wgsl.cpp)
  string(REPLACE ";" "|" hearth_wgsl_arg "${HEARTH_WGSL}")
  add_custom_command(
    OUTPUT ${HEARTH_WGSL_CPP}
    COMMAND ${CMAKE_COMMAND} "-DWGSL=${hearth_wgsl_arg}" -DOUT=${HEARTH_WGSL_CPP}
            -P ${CMAKE_CURRENT_LIST_DIR}/embed_wgsl.cmake
    DEPENDS ${HEARTH_WGSL} ${CMAKE_CURRENT_LIST_DIR}/embed_wgsl.cmake
    COMMENT "Embedding WGSL kernels"
    VERBATIM)
  target_sources(hearth PRIVATE ${HEARTH_WEBGPU_SOURCES} ${HEARTH_WGSL_CPP})
  # backend.cpp's make_backend() offers "webgpu" only where the backend is compiled in.
  target_compile_definitions(hearth PRIVATE HEARTH_WEBGPU=1)
  set(HEARTH_WEBGPU ON)
endif()
