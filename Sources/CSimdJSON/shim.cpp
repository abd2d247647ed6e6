#include "CSimdJSON.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <string_view>

using namespace simdjson;

struct CSimdJSON_Parser {
  ondemand::parser parser;
  ondemand::document document;
  ondemand::object root;
  ondemand::object_iterator field;
  ondemand::object_iterator end;
  ondemand::value value;
  ondemand::array array;
  ondemand::array_iterator element;
  ondemand::array_iterator element_end;
  const char *base = nullptr;
  size_t length = 0;
  bool field_pending = false;
  bool array_started = false;
};

namespace {

int code_for(error_code error) {
  switch (error) {
    case SUCCESS: return CSimdJSON_OK;
    case UTF8_ERROR: return CSimdJSON_UTF8;
    case INCORRECT_TYPE: return CSimdJSON_WRONG_TYPE;
    case NUMBER_ERROR: return CSimdJSON_BAD_NUMBER;
    case NUMBER_OUT_OF_RANGE: return CSimdJSON_INTEGER_RANGE;
    case DEPTH_ERROR: return CSimdJSON_DEPTH;
    case TRAILING_CONTENT: return CSimdJSON_TRAILING;
    case INSUFFICIENT_PADDING: return CSimdJSON_PADDING;
    case MEMALLOC: return CSimdJSON_MEMORY;
    case CAPACITY: return CSimdJSON_MEMORY;
    case TAPE_ERROR:
    case STRING_ERROR:
    case T_ATOM_ERROR:
    case F_ATOM_ERROR:
    case N_ATOM_ERROR:
    case UNCLOSED_STRING:
    case UNESCAPED_CHARS:
    case EMPTY:
    case INCOMPLETE_ARRAY_OR_OBJECT:
    case NO_SUCH_FIELD:
    case INDEX_OUT_OF_BOUNDS:
    case OUT_OF_ORDER_ITERATION:
    case SCALAR_DOCUMENT_AS_VALUE: return CSimdJSON_SYNTAX;
    default: return CSimdJSON_INTERNAL;
  }
}

size_t location(CSimdJSON_Parser *p) {
  auto current = p->document.current_location();
  if (current.error() != SUCCESS) return SIZE_MAX;
  const char *where = current.value_unsafe();
  if (where < p->base || where > p->base + p->length) return SIZE_MAX;
  return size_t(where - p->base);
}

int fail(CSimdJSON_Parser *p, CSimdJSON_Error *error, int code, error_code cause,
         size_t index = SIZE_MAX, size_t column = SIZE_MAX) {
  if (error) {
    error->code = code;
    error->offset = p ? location(p) : SIZE_MAX;
    error->index = index;
    error->column = column;
    error->detail = error_message(cause);
  }
  return code;
}

int fail(CSimdJSON_Parser *p, CSimdJSON_Error *error, error_code cause, size_t index = SIZE_MAX,
         size_t column = SIZE_MAX) {
  return fail(p, error, code_for(cause), cause, index, column);
}

// Why an element could not be read as a number: another JSON type, or a malformed number.
template <typename Element>
int not_a_number(Element &element, error_code cause) {
  ondemand::json_type actual;
  if (element.type().get(actual) == SUCCESS && actual != ondemand::json_type::number) {
    return CSimdJSON_WRONG_TYPE;
  }
  return cause == INCORRECT_TYPE ? CSimdJSON_WRONG_TYPE : CSimdJSON_BAD_NUMBER;
}

// An element that must be an integer in [minimum, maximum]: an integer literal, or a float
// literal without fractional part.
template <typename Element>
int read_integer(Element &element, int64_t minimum, int64_t maximum, int64_t &out) {
  // The common case first, in one pass over the digits: an integer literal within int64, which
  // the classification below would find to be a signed integer and read the same way. simdjson
  // leaves the element unconsumed when this fails.
  int64_t direct;
  auto refused = element.get_int64().get(direct);
  if (refused == SUCCESS) {
    if (direct < minimum || direct > maximum) return CSimdJSON_INTEGER_RANGE;
    out = direct;
    return CSimdJSON_OK;
  }
  ondemand::number_type type;
  auto kind = element.get_number_type();
  if (std::move(kind).get(type)) return not_a_number(element, kind.error());
  if (type == ondemand::number_type::signed_integer ||
      type == ondemand::number_type::unsigned_integer) {
    // get_int64 says NUMBER_ERROR for a malformed literal ("01") and INCORRECT_TYPE for one
    // outside int64 (below -2^63 or above 2^63 - 1).
    return refused == INCORRECT_TYPE ? CSimdJSON_INTEGER_RANGE : code_for(refused);
  }
  double value;
  auto result = element.get_double();
  if (std::move(result).get(value)) return code_for(result.error());
  if (!std::isfinite(value)) return CSimdJSON_BAD_NUMBER;
  if (value != std::floor(value)) return CSimdJSON_NOT_INTEGER;
  if (value < double(minimum) || value > double(maximum)) return CSimdJSON_INTEGER_RANGE;
  out = int64_t(value);
  return CSimdJSON_OK;
}

// An integer literal outside int64: below -2^63, or at or above 2^63 (simdjson 3.0.1 classifies
// literals past 2^64 - 1 as unsigned too, and may fail to classify longer ones). Its value as a
// double, the nearest one past 2^64 - 1; false when it is beyond the range of a double.
template <typename Element>
bool read_wide_integer(Element &element, double &out) {
  uint64_t value;
  if (element.get_uint64().get(value) == SUCCESS) {
    out = double(value);
    return true;
  }
  return element.get_double().get(out) == SUCCESS && std::isfinite(out);
}

template <typename Element>
int read_double(Element &element, double &out) {
  ondemand::number_type type;
  auto kind = element.get_number_type();
  if (std::move(kind).get(type)) return not_a_number(element, kind.error());
  if (type == ondemand::number_type::signed_integer) {
    int64_t value;
    auto result = element.get_int64();
    if (std::move(result).get(value) == SUCCESS) {
      out = double(value);
      return CSimdJSON_OK;
    }
    // NUMBER_ERROR for a malformed literal ("01"), INCORRECT_TYPE below -2^63
    if (result.error() != INCORRECT_TYPE) return code_for(result.error());
  }
  if (type != ondemand::number_type::floating_point_number) {
    return read_wide_integer(element, out) ? CSimdJSON_OK : CSimdJSON_BAD_NUMBER;
  }
  auto result = element.get_double();
  if (std::move(result).get(out)) return code_for(result.error());
  if (!std::isfinite(out)) return CSimdJSON_BAD_NUMBER;
  return CSimdJSON_OK;
}

}  // namespace

extern "C" {

size_t CSimdJSON_padding(void) { return SIMDJSON_PADDING; }

CSimdJSON_Parser *CSimdJSON_parser_create(void) {
  return new (std::nothrow) CSimdJSON_Parser();
}

void CSimdJSON_parser_destroy(CSimdJSON_Parser *parser) { delete parser; }

size_t CSimdJSON_parser_capacity(const CSimdJSON_Parser *parser) {
  return parser->parser.capacity();
}

int CSimdJSON_begin(CSimdJSON_Parser *p, const char *data, size_t length, size_t capacity,
                    CSimdJSON_Error *error) {
  p->base = data;
  p->length = length;
  p->field_pending = false;
  p->array_started = false;
  if (capacity < length + SIMDJSON_PADDING) {
    return fail(nullptr, error, CSimdJSON_PADDING, INSUFFICIENT_PADDING);
  }
  auto doc = p->parser.iterate(data, length, capacity);
  if (doc.error()) return fail(nullptr, error, doc.error());
  p->document = std::move(doc.value_unsafe());
  ondemand::json_type type;
  auto kind = p->document.type();
  if (std::move(kind).get(type)) return fail(p, error, kind.error());
  if (type != ondemand::json_type::object) {
    // a scalar or array root: still report malformed JSON as such
    if (type == ondemand::json_type::array) {
      return fail(p, error, CSimdJSON_NOT_OBJECT, INCORRECT_TYPE);
    }
    return fail(p, error, CSimdJSON_NOT_OBJECT, INCORRECT_TYPE);
  }
  auto object = p->document.get_object();
  if (std::move(object).get(p->root)) return fail(p, error, object.error());
  auto begin = p->root.begin();
  if (std::move(begin).get(p->field)) return fail(p, error, begin.error());
  auto end = p->root.end();
  if (std::move(end).get(p->end)) return fail(p, error, end.error());
  return CSimdJSON_OK;
}

int CSimdJSON_next_field(CSimdJSON_Parser *p, const char **key, size_t *key_length,
                         CSimdJSON_Error *error) {
  if (p->field_pending) {
    ++p->field;
    p->field_pending = false;
  }
  p->array_started = false;
  if (!(p->field != p->end)) {
    // past the root object there must be nothing but whitespace: no further structural byte
    auto where = p->document.current_location();
    if (where.error() == SUCCESS) {
      fail(p, error, CSimdJSON_TRAILING, TRAILING_CONTENT);
      return -1;
    }
    return 0;
  }
  ondemand::field field;
  auto current = *p->field;
  if (std::move(current).get(field)) {
    fail(p, error, current.error());
    return -1;
  }
  std::string_view name;
  auto unescaped = field.unescaped_key();
  if (std::move(unescaped).get(name)) {
    fail(p, error, unescaped.error());
    return -1;
  }
  *key = name.data();
  *key_length = name.size();
  p->value = field.value();
  p->field_pending = true;
  return 1;
}

int CSimdJSON_type(CSimdJSON_Parser *p, int *type, CSimdJSON_Error *error) {
  ondemand::json_type kind;
  auto result = p->value.type();
  if (std::move(result).get(kind)) return fail(p, error, result.error());
  switch (kind) {
    case ondemand::json_type::object: *type = CSimdJSON_TYPE_OBJECT; break;
    case ondemand::json_type::array: *type = CSimdJSON_TYPE_ARRAY; break;
    case ondemand::json_type::number: *type = CSimdJSON_TYPE_NUMBER; break;
    case ondemand::json_type::string: *type = CSimdJSON_TYPE_STRING; break;
    case ondemand::json_type::boolean: *type = CSimdJSON_TYPE_BOOLEAN; break;
    case ondemand::json_type::null: *type = CSimdJSON_TYPE_NULL; break;
  }
  return CSimdJSON_OK;
}

int CSimdJSON_number(CSimdJSON_Parser *p, double *value, int64_t *integer, int *kind,
                     CSimdJSON_Error *error) {
  ondemand::number_type type;
  auto result = p->value.get_number_type();
  bool classified = std::move(result).get(type) == SUCCESS;
  if (classified && type == ondemand::number_type::signed_integer) {
    auto number = p->value.get_int64();
    if (std::move(number).get(*integer) == SUCCESS) {
      *value = double(*integer);
      *kind = CSimdJSON_NUMBER_INT64;
      return CSimdJSON_OK;
    }
    // NUMBER_ERROR for a malformed literal ("01"), INCORRECT_TYPE below -2^63
    if (number.error() != INCORRECT_TYPE) return fail(p, error, number.error());
  }
  if (!classified || type != ondemand::number_type::floating_point_number) {
    if (!read_wide_integer(p->value, *value)) {
      return fail(p, error, CSimdJSON_BAD_NUMBER, NUMBER_ERROR);
    }
    *kind = CSimdJSON_NUMBER_BIG;
    return CSimdJSON_OK;
  }
  auto number = p->value.get_double();
  if (std::move(number).get(*value)) return fail(p, error, number.error());
  if (!std::isfinite(*value)) return fail(p, error, CSimdJSON_BAD_NUMBER, NUMBER_ERROR);
  *kind = CSimdJSON_NUMBER_FLOAT;
  return CSimdJSON_OK;
}

int CSimdJSON_boolean(CSimdJSON_Parser *p, bool *value, CSimdJSON_Error *error) {
  auto result = p->value.get_bool();
  if (std::move(result).get(*value)) return fail(p, error, result.error());
  return CSimdJSON_OK;
}

int CSimdJSON_null(CSimdJSON_Parser *p, CSimdJSON_Error *error) {
  auto result = p->value.is_null();
  bool is_null = false;
  if (std::move(result).get(is_null)) return fail(p, error, result.error());
  if (!is_null) return fail(p, error, CSimdJSON_WRONG_TYPE, INCORRECT_TYPE);
  return CSimdJSON_OK;
}

int CSimdJSON_string(CSimdJSON_Parser *p, const char **value, size_t *length,
                     CSimdJSON_Error *error) {
  std::string_view text;
  auto result = p->value.get_string();
  if (std::move(result).get(text)) return fail(p, error, result.error());
  *value = text.data();
  *length = text.size();
  return CSimdJSON_OK;
}

int CSimdJSON_raw(CSimdJSON_Parser *p, const char **value, size_t *length,
                  CSimdJSON_Error *error) {
  ondemand::object object;
  auto as_object = p->value.get_object();
  if (std::move(as_object).get(object)) return fail(p, error, as_object.error());
  std::string_view text;
  auto result = object.raw_json();
  if (std::move(result).get(text)) return fail(p, error, result.error());
  *value = text.data();
  *length = text.size();
  return CSimdJSON_OK;
}

int CSimdJSON_array_count(CSimdJSON_Parser *p, size_t *count, CSimdJSON_Error *error) {
  auto array = p->value.get_array();
  if (std::move(array).get(p->array)) return fail(p, error, array.error());
  auto counted = p->array.count_elements();
  if (std::move(counted).get(*count)) return fail(p, error, counted.error());
  p->array_started = true;
  return CSimdJSON_OK;
}

static int ensure_array(CSimdJSON_Parser *p, CSimdJSON_Error *error) {
  if (p->array_started) return CSimdJSON_OK;
  auto array = p->value.get_array();
  if (std::move(array).get(p->array)) return fail(p, error, array.error());
  p->array_started = true;
  return CSimdJSON_OK;
}

int CSimdJSON_int32_array(CSimdJSON_Parser *p, int32_t *out, size_t capacity, size_t *count,
                          int32_t minimum, int32_t maximum, CSimdJSON_Error *error) {
  if (int code = ensure_array(p, error)) return code;
  size_t n = 0;
  for (auto element : p->array) {
    ondemand::value item;
    if (std::move(element).get(item)) return fail(p, error, element.error(), n);
    if (n >= capacity) return fail(p, error, CSimdJSON_INTERNAL, CAPACITY, n);
    int64_t value;
    int code = read_integer(item, minimum, maximum, value);
    if (code != CSimdJSON_OK) return fail(p, error, code, code == CSimdJSON_WRONG_TYPE ? INCORRECT_TYPE : NUMBER_ERROR, n);
    out[n++] = int32_t(value);
  }
  *count = n;
  return CSimdJSON_OK;
}

int CSimdJSON_double_array(CSimdJSON_Parser *p, double *out, size_t capacity, size_t *count,
                           CSimdJSON_Error *error) {
  if (int code = ensure_array(p, error)) return code;
  size_t n = 0;
  for (auto element : p->array) {
    ondemand::value item;
    if (std::move(element).get(item)) return fail(p, error, element.error(), n);
    if (n >= capacity) return fail(p, error, CSimdJSON_INTERNAL, CAPACITY, n);
    double value;
    int code = read_double(item, value);
    if (code != CSimdJSON_OK) return fail(p, error, code, code == CSimdJSON_WRONG_TYPE ? INCORRECT_TYPE : NUMBER_ERROR, n);
    out[n++] = value;
  }
  *count = n;
  return CSimdJSON_OK;
}

int CSimdJSON_double_matrix(CSimdJSON_Parser *p, double *out, size_t capacity, size_t *rows,
                            size_t *columns, CSimdJSON_Error *error) {
  if (int code = ensure_array(p, error)) return code;
  size_t r = 0;
  size_t n = 0;
  size_t width = SIZE_MAX;
  for (auto row_result : p->array) {
    ondemand::array row;
    ondemand::value row_value;
    if (std::move(row_result).get(row_value)) return fail(p, error, row_result.error(), r);
    auto as_array = row_value.get_array();
    if (std::move(as_array).get(row)) return fail(p, error, as_array.error(), r);
    size_t c = 0;
    for (auto element : row) {
      ondemand::value item;
      if (std::move(element).get(item)) return fail(p, error, element.error(), r, c);
      if (n >= capacity) return fail(p, error, CSimdJSON_INTERNAL, CAPACITY, r, c);
      double value;
      int code = read_double(item, value);
      if (code != CSimdJSON_OK) return fail(p, error, code, code == CSimdJSON_WRONG_TYPE ? INCORRECT_TYPE : NUMBER_ERROR, r, c);
      out[n++] = value;
      c++;
    }
    if (width == SIZE_MAX) {
      width = c;
    } else if (c != width) {
      return fail(p, error, CSimdJSON_RAGGED, INCORRECT_TYPE, r, c);
    }
    r++;
  }
  *rows = r;
  *columns = width == SIZE_MAX ? 0 : width;
  return CSimdJSON_OK;
}

int CSimdJSON_array_begin(CSimdJSON_Parser *p, CSimdJSON_Error *error) {
  if (int code = ensure_array(p, error)) return code;
  auto begin = p->array.begin();
  if (std::move(begin).get(p->element)) return fail(p, error, begin.error());
  auto end = p->array.end();
  if (std::move(end).get(p->element_end)) return fail(p, error, end.error());
  return CSimdJSON_OK;
}

int CSimdJSON_array_next_raw(CSimdJSON_Parser *p, const char **value, size_t *length,
                             CSimdJSON_Error *error) {
  if (!(p->element != p->element_end)) return 0;
  ondemand::value item;
  auto current = *p->element;
  if (std::move(current).get(item)) {
    fail(p, error, current.error());
    return -1;
  }
  ondemand::json_type type;
  auto kind = item.type();
  if (std::move(kind).get(type)) {
    fail(p, error, kind.error());
    return -1;
  }
  if (type != ondemand::json_type::object) {
    // consume the element, and report it as not an object
    error_code consumed = SUCCESS;
    switch (type) {
      case ondemand::json_type::array: {
        ondemand::array inner;
        consumed = item.get_array().get(inner);
        if (!consumed) consumed = inner.raw_json().error();
        break;
      }
      case ondemand::json_type::string: consumed = item.get_string().error(); break;
      case ondemand::json_type::boolean: consumed = item.get_bool().error(); break;
      case ondemand::json_type::null: consumed = item.is_null().error(); break;
      default: consumed = item.get_double().error(); break;
    }
    if (consumed) {
      fail(p, error, consumed);
      return -1;
    }
    *value = nullptr;
    *length = 0;
    ++p->element;
    return 2;
  }
  ondemand::object object;
  auto as_object = item.get_object();
  if (std::move(as_object).get(object)) {
    fail(p, error, as_object.error());
    return -1;
  }
  std::string_view text;
  auto raw = object.raw_json();
  if (std::move(raw).get(text)) {
    fail(p, error, raw.error());
    return -1;
  }
  *value = text.data();
  *length = text.size();
  ++p->element;
  return 1;
}

}  // extern "C"
