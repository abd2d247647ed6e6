// C interface to simdjson's On-Demand parser, for Swift.
//
// One parser reads one JSON document whose root must be an object. The caller walks the root's
// fields in order (CSimdJSON_next_field) and consumes each field's value with exactly one of the
// value functions. Numeric arrays are extracted in bulk, in C++, so that a body of ten million
// labels costs tens of milliseconds. Errors carry a code, the byte offset where parsing stopped,
// and for array elements the index of the offending element.
//
// The input buffer must stay valid and have CSimdJSON_padding() readable bytes after `length`.
#ifndef CSIMDJSON_H
#define CSIMDJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CSimdJSON_Parser CSimdJSON_Parser;

/// Outcomes. 0 is success; the others are reasons a request body is rejected.
enum CSimdJSON_Code {
  CSimdJSON_OK = 0,
  /// Not JSON: a bad token (NaN, Infinity, a single quote, ...), truncation, unbalanced brackets.
  CSimdJSON_SYNTAX = 1,
  /// The bytes are not valid UTF-8.
  CSimdJSON_UTF8 = 2,
  /// The document is valid JSON but its root is not an object.
  CSimdJSON_NOT_OBJECT = 3,
  /// A value has the wrong JSON type for what was asked (this includes deeper nesting).
  CSimdJSON_WRONG_TYPE = 4,
  /// A malformed number, or one outside the range of a double (1e400).
  CSimdJSON_BAD_NUMBER = 5,
  /// A number that must be an integer has a fractional part (3.5; 3.0 is accepted).
  CSimdJSON_NOT_INTEGER = 6,
  /// An integer outside the range the caller asked for.
  CSimdJSON_INTEGER_RANGE = 7,
  /// Rows of a matrix with different lengths.
  CSimdJSON_RAGGED = 8,
  /// Content after the root object.
  CSimdJSON_TRAILING = 9,
  /// Nesting deeper than simdjson's limit.
  CSimdJSON_DEPTH = 10,
  /// The buffer lacks the required padding (a programming error).
  CSimdJSON_PADDING = 11,
  /// Memory could not be allocated.
  CSimdJSON_MEMORY = 12,
  /// Any other simdjson failure.
  CSimdJSON_INTERNAL = 13,
};

/// JSON types of a value.
enum CSimdJSON_Type {
  CSimdJSON_TYPE_OBJECT = 1,
  CSimdJSON_TYPE_ARRAY = 2,
  CSimdJSON_TYPE_NUMBER = 3,
  CSimdJSON_TYPE_STRING = 4,
  CSimdJSON_TYPE_BOOLEAN = 5,
  CSimdJSON_TYPE_NULL = 6,
};

/// Kinds of number literal.
enum CSimdJSON_NumberKind {
  /// An integer literal that fits in int64 (`integer` and `value` are set).
  CSimdJSON_NUMBER_INT64 = 1,
  /// A literal with a fraction or exponent (`value` is set).
  CSimdJSON_NUMBER_FLOAT = 2,
  /// An integer literal at or above 2**63 (`value` is set, rounded).
  CSimdJSON_NUMBER_BIG = 3,
};

typedef struct CSimdJSON_Error {
  int code;
  /// Byte offset in the input near the problem, or SIZE_MAX when unknown.
  size_t offset;
  /// For array elements: the element index (row index for matrices), else SIZE_MAX.
  size_t index;
  /// For matrices: the column index of the offending element, else SIZE_MAX.
  size_t column;
  /// simdjson's own description.
  const char *detail;
} CSimdJSON_Error;

/// Bytes that must be readable after the end of the input.
size_t CSimdJSON_padding(void);

CSimdJSON_Parser *CSimdJSON_parser_create(void);
void CSimdJSON_parser_destroy(CSimdJSON_Parser *parser);
/// Bytes of internal buffers the parser holds (grows with the largest document parsed).
size_t CSimdJSON_parser_capacity(const CSimdJSON_Parser *parser);

/// Starts reading `data[0..<length]` (with `capacity >= length + padding`). The root must be an
/// object.
int CSimdJSON_begin(CSimdJSON_Parser *parser, const char *data, size_t length, size_t capacity,
                    CSimdJSON_Error *error);

/// Advances to the next field of the root object. Returns 1 with the unescaped key, 0 at the end
/// of the object (after checking that nothing follows it), -1 on error.
int CSimdJSON_next_field(CSimdJSON_Parser *parser, const char **key, size_t *key_length,
                         CSimdJSON_Error *error);

/// The JSON type of the current field's value.
int CSimdJSON_type(CSimdJSON_Parser *parser, int *type, CSimdJSON_Error *error);

/// The current value as a number.
int CSimdJSON_number(CSimdJSON_Parser *parser, double *value, int64_t *integer, int *kind,
                     CSimdJSON_Error *error);

/// The current value as a boolean.
int CSimdJSON_boolean(CSimdJSON_Parser *parser, bool *value, CSimdJSON_Error *error);

/// Consumes a `null` value.
int CSimdJSON_null(CSimdJSON_Parser *parser, CSimdJSON_Error *error);

/// The current value as a string (unescaped; valid until the next call on this parser).
int CSimdJSON_string(CSimdJSON_Parser *parser, const char **value, size_t *length,
                     CSimdJSON_Error *error);

/// The raw JSON text of the current value, which must be an object (a pointer into the input).
int CSimdJSON_raw(CSimdJSON_Parser *parser, const char **value, size_t *length,
                  CSimdJSON_Error *error);

/// The number of elements of the current value, which must be an array; the array can still be
/// read afterwards.
int CSimdJSON_array_count(CSimdJSON_Parser *parser, size_t *count, CSimdJSON_Error *error);

/// Reads the current array of integers into `out` (at most `capacity` elements). Each element
/// must be an integer literal, or a float literal with no fractional part, in
/// [minimum, maximum].
int CSimdJSON_int32_array(CSimdJSON_Parser *parser, int32_t *out, size_t capacity, size_t *count,
                          int32_t minimum, int32_t maximum, CSimdJSON_Error *error);

/// Reads the current array of numbers into `out` (at most `capacity` elements).
int CSimdJSON_double_array(CSimdJSON_Parser *parser, double *out, size_t capacity, size_t *count,
                           CSimdJSON_Error *error);

/// Reads the current array of arrays of numbers, row after row, into `out` (at most `capacity`
/// numbers). All rows must have the same length, reported in `columns`.
int CSimdJSON_double_matrix(CSimdJSON_Parser *parser, double *out, size_t capacity,
                            size_t *rows, size_t *columns, CSimdJSON_Error *error);

/// Starts iterating the current value, which must be an array, element by element.
int CSimdJSON_array_begin(CSimdJSON_Parser *parser, CSimdJSON_Error *error);

/// The raw JSON text of the next element, which must be an object, of the array started by
/// CSimdJSON_array_begin (a pointer into the input). Returns 1, 0 at the end, -1 on error, and
/// 2 (with no text) for an element that is not an object, which is skipped.
int CSimdJSON_array_next_raw(CSimdJSON_Parser *parser, const char **value, size_t *length,
                             CSimdJSON_Error *error);

#ifdef __cplusplus
}
#endif

#endif
