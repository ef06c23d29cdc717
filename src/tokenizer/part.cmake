# Tokenizer build part: generates the Unicode tables (general categories, White_Space,
# Alphabetic, combining classes, NFC data) from the Unicode Character Database at build time and
# adds them to the hearth library. Needs python3 and the UCD files (Debian: apt-get install
# unicode-data).
set(HEARTH_UNICODE_DIR "/usr/share/unicode" CACHE PATH "Folder with the Unicode Character Database files")
set(HEARTH_UCD_FILES
  ${HEARTH_UNICODE_DIR}/UnicodeData.txt
  ${HEARTH_UNICODE_DIR}/PropList.txt
  ${HEARTH_UNICODE_DIR}/DerivedCoreProperties.txt
  ${HEARTH_UNICODE_DIR}/DerivedNormalizationProps.txt)
foreach(f ${HEARTH_UCD_FILES})
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "hearth tokenizer: ${f} not found. Install the Unicode Character Database "
      "(Debian: apt-get install unicode-data) or set HEARTH_UNICODE_DIR.")
  endif()
endforeach()

set(HEARTH_UNICODE_TABLES ${CMAKE_BINARY_DIR}/generated/unicode_tables.cpp)
add_custom_command(
  OUTPUT ${HEARTH_UNICODE_TABLES}
  COMMAND python3 ${CMAKE_SOURCE_DIR}/tools/gen_unicode_tables.py
          --unicode-dir ${HEARTH_UNICODE_DIR} --out ${HEARTH_UNICODE_TABLES}
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/gen_unicode_tables.py ${HEARTH_UCD_FILES}
  COMMENT "Generating Unicode tables for the tokenizer"
  VERBATIM)
target_sources(hearth PRIVATE ${HEARTH_UNICODE_TABLES})
target_include_directories(hearth PRIVATE ${CMAKE_BINARY_DIR}/generated)
