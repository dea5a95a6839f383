/**
 * The kinds of field a generated record can have, each with everything the
 * three crates need to say about it: its Rust type, how the app makes a
 * sample value, its share of the record's weight, its validation, a rule the
 * engine checks and, for some, a pipeline stage. See generate.ts.
 */
export interface FieldKind {
  readonly name: string;
  readonly rustType: string;
  /** A Rust expression of the app making a sample value from `rng`, `id` and `tick`. */
  readonly sample: string;
  /** An f64 Rust expression over `self`. */
  readonly weight: string;
  /** A condition over `self` that makes the record invalid, and why. */
  readonly invalidWhen?: { readonly condition: string; readonly problem: string };
  /** How the record's Display shows the field: a format fragment and its argument. */
  readonly display: { readonly format: string; readonly argument: string };
  /** An engine rule for the field: its struct's fields, their defaults, and the check over `item`. */
  readonly rule: { readonly suffix: string; readonly fields: string; readonly defaults: string; readonly check: string };
  /** A pipeline stage (a closure over `item`), when normalizing the field makes sense. */
  readonly stage?: { readonly name: string; readonly closure: string };
  /** What the model's per-record module must import for this field. */
  readonly modelImports?: readonly string[];
  readonly engineImports?: readonly string[];
}

export const FIELD_KINDS: readonly FieldKind[] = [
  {
    name: 'amount',
    rustType: 'Money',
    sample: 'Money::from_cents(rng.range(-500, 250_000))',
    weight: 'self.amount.as_f64() / 100.0',
    invalidWhen: { condition: 'self.amount.is_negative()', problem: 'is negative' },
    display: { format: 'amount={}', argument: 'self.amount' },
    rule: {
      suffix: 'AmountCeiling',
      fields: 'pub ceiling: Money',
      defaults: 'ceiling: Money::from_cents(200_000)',
      check: 'if item.amount > self.ceiling { Verdict::Flag(format!("amount {} over {}", item.amount, self.ceiling)) } else { Verdict::Pass }',
    },
    modelImports: ['crate::money::Money'],
    engineImports: ['inventory_model::Money'],
  },
  {
    name: 'quantity',
    rustType: 'u32',
    sample: 'rng.range(0, 120) as u32',
    weight: 'f64::from(self.quantity)',
    invalidWhen: { condition: 'self.quantity > 10_000', problem: 'is implausibly large' },
    display: { format: 'qty={}', argument: 'self.quantity' },
    rule: {
      suffix: 'QuantityBand',
      fields: 'pub min: u32,\n    pub max: u32',
      defaults: 'min: 1,\n            max: 100',
      check: 'if (self.min..=self.max).contains(&item.quantity) { Verdict::Pass } else { Verdict::Reject(format!("quantity {} outside {}..={}", item.quantity, self.min, self.max)) }',
    },
    stage: { name: 'drop empty', closure: '|item| (item.quantity > 0).then_some(item)' },
  },
  {
    name: 'weight_kg',
    rustType: 'f64',
    sample: 'rng.unit() * 900.0',
    weight: 'self.weight_kg / 10.0',
    invalidWhen: { condition: '!self.weight_kg.is_finite() || self.weight_kg < 0.0', problem: 'is not a weight' },
    display: { format: 'kg={:.1}', argument: 'self.weight_kg' },
    rule: {
      suffix: 'WeightLimit',
      fields: 'pub max_kg: f64',
      defaults: 'max_kg: 750.0',
      check: 'if item.weight_kg > self.max_kg { Verdict::Reject(format!("{:.1} kg over the {:.0} kg limit", item.weight_kg, self.max_kg)) } else { Verdict::Pass }',
    },
  },
  {
    name: 'label',
    rustType: 'String',
    sample: 'rng.label(id)',
    weight: 'self.label.len() as f64 / 8.0',
    invalidWhen: { condition: 'self.label.trim().is_empty()', problem: 'is empty' },
    display: { format: 'label={:?}', argument: 'self.label' },
    rule: {
      suffix: 'LabelWords',
      fields: "pub banned: Vec<&'static str>",
      defaults: 'banned: vec!["test", "void", "tmp"]',
      check:
        'match self.banned.iter().find(|word| item.label.contains(*word)) {\n            Some(word) => Verdict::Flag(format!("label mentions {word:?}")),\n            None => Verdict::Pass,\n        }',
    },
    stage: {
      name: 'trim label',
      closure: '|mut item| {\n                item.label = item.label.trim().to_string();\n                Some(item)\n            }',
    },
  },
  {
    name: 'tags',
    rustType: 'Vec<String>',
    sample: 'rng.tags()',
    weight: 'self.tags.len() as f64',
    invalidWhen: { condition: 'self.tags.len() > 16', problem: 'has too many tags' },
    display: { format: 'tags={}', argument: 'self.tags.join(",")' },
    rule: {
      suffix: 'TagBudget',
      fields: 'pub max_tags: usize',
      defaults: 'max_tags: 4',
      check: 'if item.tags.len() > self.max_tags { Verdict::Flag(format!("{} tags, budget {}", item.tags.len(), self.max_tags)) } else { Verdict::Pass }',
    },
    stage: {
      name: 'sort tags',
      closure: '|mut item| {\n                item.tags.sort();\n                item.tags.dedup();\n                Some(item)\n            }',
    },
  },
  {
    name: 'region',
    rustType: 'Region',
    sample: 'Region::from_index(rng.next())',
    weight: 'self.region.factor()',
    display: { format: 'region={}', argument: 'self.region.code()' },
    rule: {
      suffix: 'RegionEmbargo',
      fields: 'pub embargoed: Vec<Region>',
      defaults: 'embargoed: vec![Region::Central]',
      check: 'if self.embargoed.contains(&item.region) { Verdict::Reject(format!("region {} is embargoed", item.region.code())) } else { Verdict::Pass }',
    },
    modelImports: ['crate::region::Region'],
    engineImports: ['inventory_model::Region'],
  },
  {
    name: 'priority',
    rustType: 'u8',
    sample: 'rng.range(0, 12) as u8',
    weight: 'f64::from(self.priority) * 1.5',
    invalidWhen: { condition: 'self.priority > 11', problem: 'is above 11' },
    display: { format: 'prio={}', argument: 'self.priority' },
    rule: {
      suffix: 'PriorityEscalation',
      fields: 'pub threshold: u8',
      defaults: 'threshold: 9',
      check: 'if item.priority >= self.threshold { Verdict::Flag(format!("priority {} needs a human", item.priority)) } else { Verdict::Pass }',
    },
    stage: {
      name: 'cap priority',
      closure: '|mut item| {\n                item.priority = item.priority.min(9);\n                Some(item)\n            }',
    },
  },
  {
    name: 'reference',
    rustType: 'Option<String>',
    sample: '(rng.next() % 3 != 0).then(|| format!("REF-{:06}", id * 7 + tick))',
    weight: 'if self.reference.is_some() { 1.0 } else { 0.0 }',
    invalidWhen: { condition: 'self.reference.as_deref().is_some_and(str::is_empty)', problem: 'is present but empty' },
    display: { format: 'ref={}', argument: 'self.reference.as_deref().unwrap_or("-")' },
    rule: {
      suffix: 'ReferenceRequired',
      fields: 'pub prefix: &\'static str',
      defaults: 'prefix: "REF-"',
      check:
        'match &item.reference {\n            Some(reference) if reference.starts_with(self.prefix) => Verdict::Pass,\n            Some(reference) => Verdict::Reject(format!("reference {reference:?} lacks {:?}", self.prefix)),\n            None => Verdict::Flag("no reference".to_string()),\n        }',
    },
  },
  {
    name: 'lines',
    rustType: 'Vec<LineItem>',
    sample: 'rng.line_items()',
    weight: 'self.lines.iter().map(|line| line.total().as_f64()).sum::<f64>() / 1000.0',
    invalidWhen: { condition: 'self.lines.iter().any(|line| line.quantity == 0)', problem: 'has a line of zero quantity' },
    display: { format: 'lines={}', argument: 'self.lines.len()' },
    rule: {
      suffix: 'LineCount',
      fields: 'pub max_lines: usize,\n    pub max_line_total: Money',
      defaults: 'max_lines: 5,\n            max_line_total: Money::from_cents(50_000)',
      check:
        'if item.lines.len() > self.max_lines {\n            return Verdict::Flag(format!("{} lines, at most {}", item.lines.len(), self.max_lines));\n        }\n        match item.lines.iter().find(|line| line.total() > self.max_line_total) {\n            Some(line) => Verdict::Flag(format!("line {} totals {}", line.sku, line.total())),\n            None => Verdict::Pass,\n        }',
    },
    stage: {
      name: 'merge lines',
      closure: '|mut item| {\n                item.lines = merge_lines(std::mem::take(&mut item.lines));\n                Some(item)\n            }',
    },
    modelImports: ['crate::line_item::LineItem'],
    engineImports: ['inventory_model::Money', 'crate::lines::merge_lines'],
  },
  {
    name: 'due_in_days',
    rustType: 'u16',
    sample: 'rng.range(0, 120) as u16',
    weight: 'f64::from(self.due_in_days) / 30.0',
    display: { format: 'due={}d', argument: 'self.due_in_days' },
    rule: {
      suffix: 'DueWindow',
      fields: 'pub max_days: u16',
      defaults: 'max_days: 90',
      check: 'if item.due_in_days > self.max_days { Verdict::Flag(format!("due in {} days", item.due_in_days)) } else { Verdict::Pass }',
    },
  },
];
