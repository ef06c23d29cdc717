# The wasm engine module and the WebGPU test module (Emscripten builds only; included from the
# top-level CMakeLists.txt). Both are MODULARIZE'd CommonJS factories loaded from ES modules
# (web/src/*.mjs) with createRequire. Outputs go to <build>/web/.
#
# ASYNCIFY: Backend::read() is synchronous, but a GPU read-back (mapAsync) and pipeline
# compilation are promises. The two bridge imports that wait are EM_ASYNC_JS (added to
# ASYNCIFY_IMPORTS by Emscripten); the exported calls that may reach them (load, generate)
# are called with ccall(..., {async: true}) and return promises. Asyncify only instruments
# functions that can reach an async import; the hot CPU loops stay uninstrumented.
set(HEARTH_WEB_OUT ${CMAKE_BINARY_DIR}/web)
set(HEARTH_WEB_LINK
  -sMODULARIZE=1 -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=8MB
  -sASYNCIFY=1 -sASYNCIFY_STACK_SIZE=1048576 -sENVIRONMENT=web,worker,node
  # A library must not install process-wide handlers that turn the app's rejections into exits.
  -sNODEJS_CATCH_REJECTION=0 -sNODEJS_CATCH_EXIT=0
  -sEXPORTED_RUNTIME_METHODS=ccall,cwrap,UTF8ToString,stringToUTF8,lengthBytesUTF8)

# The per-op parity harness (tests/parity/) on WebGPU (web/test/ops.test.mjs runs it).
if(TARGET hearth_parity)
  add_executable(hearth_webgpu_ops_test ${CMAKE_CURRENT_LIST_DIR}/test/webgpu_parity.cpp)
  target_link_libraries(hearth_webgpu_ops_test PRIVATE hearth hearth_parity)
  target_link_options(hearth_webgpu_ops_test PRIVATE ${HEARTH_WEB_LINK} -sEXPORT_NAME=createHearthOpsTest
    "-sEXPORTED_FUNCTIONS=_hearth_ops_test,_hearth_ops_perf,_malloc,_free")
  set_target_properties(hearth_webgpu_ops_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${HEARTH_WEB_OUT}
    OUTPUT_NAME hearth_webgpu_ops_test SUFFIX .cjs)
endif()

# The training fixtures (tests/train_fixture.h) and GGUF perplexity on WebGPU, GoogleTest in a
# module for Node
# (web/test/train_webgpu.test.mjs runs it; NODERAWFS for the fixture files).
if(TARGET gtest)
  add_executable(hearth_webgpu_train_test ${CMAKE_CURRENT_LIST_DIR}/test/webgpu_train.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test/webgpu_gguf.cpp)
  target_link_libraries(hearth_webgpu_train_test PRIVATE hearth gtest)
  target_include_directories(hearth_webgpu_train_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(hearth_webgpu_train_test PRIVATE HEARTH_FIXTURES="${HEARTH_FIXTURES}"
    HEARTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set(hearth_node_link ${HEARTH_WEB_LINK})
  list(REMOVE_ITEM hearth_node_link -sENVIRONMENT=web,worker,node)
  target_link_options(hearth_webgpu_train_test PRIVATE ${hearth_node_link} -sENVIRONMENT=node -sNODERAWFS=1
    -sEXPORT_NAME=createHearthTrainTest "-sEXPORTED_FUNCTIONS=_hearth_train_test,_malloc,_free")
  set_target_properties(hearth_webgpu_train_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${HEARTH_WEB_OUT}
    OUTPUT_NAME hearth_webgpu_train_test SUFFIX .cjs)
endif()

# The engine module behind web/src/hearth.mjs.
file(GLOB HEARTH_WEB_CPP CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cpp/*.cpp)
if(HEARTH_WEB_CPP)
  add_executable(hearth_web ${HEARTH_WEB_CPP})
  target_link_libraries(hearth_web PRIVATE hearth)
  # The engine reads model folders through Emscripten's FS: NODEFS mounts in Node, MEMFS files
  # written from File / fetch() data in a browser.
  target_link_options(hearth_web PRIVATE ${HEARTH_WEB_LINK} -sEXPORT_NAME=createHearthEngine -sFORCE_FILESYSTEM=1
    -lnodefs.js -sEXPORTED_RUNTIME_METHODS=ccall,cwrap,UTF8ToString,stringToUTF8,lengthBytesUTF8,FS,NODEFS
    "-sEXPORTED_FUNCTIONS=_malloc,_free,_hearth_last_error,_hearth_load,_hearth_info,_hearth_free,_hearth_encode,_hearth_ids_ptr,_hearth_decode,_hearth_generate,_hearth_load_adapter,_hearth_unload_adapter,_hearth_exception_message,_hearth_save_packed,_hearth_chat_render,_hearth_chat_release,_hearth_train_start,_hearth_train_info,_hearth_train_step,_hearth_train_save,_hearth_train_add_adapter,_hearth_train_free")
  set_target_properties(hearth_web PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${HEARTH_WEB_OUT}
    OUTPUT_NAME hearth_engine SUFFIX .cjs)
  # The package's copy (web/dist/, ignored by git), where src/hearth.mjs looks first.
  add_custom_command(TARGET hearth_web POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_LIST_DIR}/dist
    COMMAND ${CMAKE_COMMAND} -E copy ${HEARTH_WEB_OUT}/hearth_engine.cjs ${HEARTH_WEB_OUT}/hearth_engine.wasm
            ${CMAKE_CURRENT_LIST_DIR}/dist/
    VERBATIM)
endif()
