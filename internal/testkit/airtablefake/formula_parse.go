package airtablefake

import (
	"slices"
	"strings"
)

// expr is a parsed formula node.
type expr interface {
	eval(c *evalCtx) value
}

type litExpr struct{ v value }

type fieldExpr struct{ f *field }

type negExpr struct{ x expr }

type binExpr struct {
	op   string
	l, r expr
}

type callExpr struct {
	fn   *function
	args []expr
}

// lastModExpr is LAST_MODIFIED_TIME(), whose arguments name fields rather
// than pass their values.
type lastModExpr struct{ fields []*field }

// formulaError carries Airtable's message for a formula it refuses, which
// is capitalised and punctuated like a sentence, unlike a Go error string.
type formulaError struct{ msg string }

func (e *formulaError) Error() string { return e.msg }

// errInvalidFormulaText is Airtable's message for a formula it cannot parse.
var errInvalidFormulaText = &formulaError{"Invalid formula. Please check your formula text."}

// parseFormula parses a filterByFormula against a table's fields. An empty
// formula is no filter, as in Airtable, and parses to nil.
func parseFormula(src string, t *table) (expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	toks, err := lex(src)
	if err != nil {
		return nil, errInvalidFormulaText
	}
	p := &parser{toks: toks, t: t}
	e, err := p.comparison()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokEOF {
		return nil, errInvalidFormulaText
	}
	return e, nil
}

type parser struct {
	toks []token
	i    int
	t    *table
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	tok := p.toks[p.i]
	if tok.kind != tokEOF {
		p.i++
	}
	return tok
}

// The grammar, loosest binding first:
//
//	comparison = concat { ("=" | "!=" | "<" | ">" | "<=" | ">=") concat }
//	concat     = sum { "&" sum }
//	sum        = product { ("+" | "-") product }
//	product    = unary { ("*" | "/") unary }
//	unary      = "-" unary | primary
//	primary    = number | string | {field} | name "(" [args] ")" | TRUE | FALSE | "(" comparison ")"
func (p *parser) comparison() (expr, error) {
	return p.binary(p.concat, "=", "!=", "<", ">", "<=", ">=")
}

func (p *parser) concat() (expr, error) { return p.binary(p.sum, "&") }

func (p *parser) sum() (expr, error) { return p.binary(p.product, "+", "-") }

func (p *parser) product() (expr, error) { return p.binary(p.unary, "*", "/") }

func (p *parser) binary(operand func() (expr, error), ops ...string) (expr, error) {
	l, err := operand()
	if err != nil {
		return nil, err
	}
	for tok := p.peek(); tok.kind == tokOp && slices.Contains(ops, tok.text); tok = p.peek() {
		p.next()
		r, err := operand()
		if err != nil {
			return nil, err
		}
		l = &binExpr{tok.text, l, r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if tok := p.peek(); tok.kind == tokOp && tok.text == "-" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &negExpr{x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	tok := p.next()
	switch tok.kind {
	case tokNumber:
		return &litExpr{tok.num}, nil
	case tokString:
		return &litExpr{tok.text}, nil
	case tokField:
		f := p.t.field(tok.text)
		if f == nil {
			return nil, &formulaError{"Unknown field names: " + tok.text}
		}
		return &fieldExpr{f}, nil
	case tokLParen:
		e, err := p.comparison()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tokRParen {
			return nil, errInvalidFormulaText
		}
		return e, nil
	case tokIdent:
		return p.call(tok)
	}
	return nil, errInvalidFormulaText
}

func (p *parser) call(name token) (expr, error) {
	upper := strings.ToUpper(name.text)
	if p.peek().kind != tokLParen {
		switch upper {
		case "TRUE":
			return &litExpr{true}, nil
		case "FALSE":
			return &litExpr{false}, nil
		}
		return nil, errInvalidFormulaText
	}
	p.next()
	var args []expr
	if p.peek().kind != tokRParen {
		for {
			a, err := p.comparison()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.next().kind != tokRParen {
		return nil, errInvalidFormulaText
	}
	if upper == "LAST_MODIFIED_TIME" {
		lm := &lastModExpr{}
		for _, a := range args {
			fe, ok := a.(*fieldExpr)
			if !ok {
				return nil, errInvalidFormulaText
			}
			lm.fields = append(lm.fields, fe.f)
		}
		return lm, nil
	}
	fn := functions[upper]
	if fn == nil {
		return nil, &formulaError{"Unknown function names: " + name.text}
	}
	if len(args) < fn.min || (fn.max >= 0 && len(args) > fn.max) {
		return nil, errInvalidFormulaText
	}
	return &callExpr{fn, args}, nil
}
