// JSON Schema -> GBNF (grammar.h): the grammar of JSON texts that validate against the schema,
// for structured output. Output is compact JSON with bounded optional whitespace.
//
// Supported: type (one or a list), enum, const, properties + required (properties appear in the
// schema's order; required ones always, optional ones may be left out), additionalProperties
// (false or absent: only the listed properties are written; a schema without properties: an
// object of such values), items, prefixItems, minItems / maxItems, minLength / maxLength,
// integer minimum / maximum (ranges of at most 4096 values, or minimum 0 or 1 with no maximum),
// number minimum 0 (non-negative), anyOf / oneOf (as alternatives), allOf with one schema, $ref
// to #/$defs/... or #/definitions/... (recursion allowed), nullable, description / title /
// default / examples / $schema / $id / format (ignored: they do not restrict the value).
// Anything else that restricts values (pattern, multipleOf, not, if/then/else, uniqueItems,
// patternProperties, min/maxProperties, other numeric bounds) is an error naming the keyword
// and where it is, so an output never fails to validate silently.
#pragma once
#include <string>

#include "core/error.h"
#include "formats/json.h"

namespace hearth {

// GBNF for JSON texts valid under `schema`.
Result<std::string> json_schema_to_gbnf(const Json& schema);
// GBNF for any JSON object (response_format json_object).
std::string json_object_gbnf();

}  // namespace hearth
