package airtable

// Airtable field types, as the metadata API names them (Field.Type), that
// ToAirtable, FromAirtable and Equal convert; others pass through.
const (
	// TypeSingleLineText holds a string.
	TypeSingleLineText = "singleLineText"
	// TypeMultilineText holds a string that may contain newlines.
	TypeMultilineText = "multilineText"
	// TypeEmail holds a string.
	TypeEmail = "email"
	// TypeURL holds a string.
	TypeURL = "url"
	// TypePhoneNumber holds a string.
	TypePhoneNumber = "phoneNumber"
	// TypeNumber holds a number.
	TypeNumber = "number"
	// TypeCurrency holds a number, the amount in the field's currency.
	TypeCurrency = "currency"
	// TypePercent holds a number, as a fraction: 0.5 shows as 50%.
	TypePercent = "percent"
	// TypeCheckbox holds true; Airtable leaves unchecked boxes out.
	TypeCheckbox = "checkbox"
	// TypeDate holds a day, "2024-01-31".
	TypeDate = "date"
	// TypeDateTime holds an instant, "2024-01-31T12:00:00.000Z".
	TypeDateTime = "dateTime"
	// TypeSingleSelect holds the name of one choice.
	TypeSingleSelect = "singleSelect"
	// TypeMultipleSelects holds a list of choice names.
	TypeMultipleSelects = "multipleSelects"
	// TypeMultipleRecordLinks holds a list of "rec…" IDs.
	TypeMultipleRecordLinks = "multipleRecordLinks"
)
