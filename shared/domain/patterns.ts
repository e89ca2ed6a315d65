/** Which fields belong to which goal pattern, and the defaults each one takes: pure rules. */
import type { ErrorDetail } from "../errors.ts";
import type { LocalDate, Pattern, PeriodKind } from "./goal-types.ts";

export const PATTERNS: readonly Pattern[] = ["daily", "frequency", "target", "limit", "milestone"];

/** The pattern-specific fields a goal may carry. */
export interface PatternFields {
  target?: number;
  unit?: string;
  timesPerPeriod?: number;
  period?: PeriodKind;
  limit?: number;
  milestones?: { title: string }[];
  endDate?: LocalDate | null;
}

export const PATTERN_FIELDS = ["target", "unit", "timesPerPeriod", "period", "limit", "milestones"] as const;
type PatternField = (typeof PATTERN_FIELDS)[number];

const OWN_FIELDS: Record<Pattern, readonly PatternField[]> = {
  daily: ["target", "unit"],
  frequency: ["timesPerPeriod", "period", "target", "unit"],
  target: ["target", "unit"],
  limit: ["limit", "period", "unit"],
  milestone: ["milestones"],
};

const PERIODS: Record<Pattern, readonly PeriodKind[]> = {
  daily: [],
  frequency: ["week", "month"],
  target: [],
  limit: ["day", "week"],
  milestone: [],
};

export interface PatternCheck {
  details: ErrorDetail[];
  /** The fields with the pattern's defaults filled in. */
  fields: PatternFields;
}

/**
 * Checks that the fields fit the pattern: fields of another pattern, a missing required field or a
 * period the pattern does not take are listed; defaults (target 1 for daily and frequency) are applied.
 */
export function checkPatternFields(pattern: Pattern, input: PatternFields): PatternCheck {
  const details: ErrorDetail[] = [];
  const own = OWN_FIELDS[pattern];
  for (const field of PATTERN_FIELDS) {
    if (input[field] !== undefined && !own.includes(field)) {
      details.push({ path: `/${field}`, message: `is not a field of ${pattern} goals` });
    }
  }
  const fields: PatternFields = {};
  for (const field of own) if (input[field] !== undefined) Object.assign(fields, { [field]: input[field] });
  const require = (field: PatternField) => {
    if (fields[field] === undefined)
      details.push({ path: `/${field}`, message: `is required for ${pattern} goals` });
  };
  switch (pattern) {
    case "daily":
      fields.target ??= 1;
      break;
    case "frequency":
      fields.target ??= 1;
      require("timesPerPeriod");
      require("period");
      break;
    case "target":
      require("target");
      if (input.endDate == null) details.push({ path: "/endDate", message: "is required for target goals" });
      break;
    case "limit":
      require("limit");
      require("period");
      break;
    case "milestone":
      require("milestones");
      break;
  }
  if (fields.period !== undefined && !PERIODS[pattern].includes(fields.period)) {
    details.push({
      path: "/period",
      message: `must be one of ${PERIODS[pattern].join(", ")} for ${pattern} goals`,
    });
  }
  if (pattern === "target" && fields.target !== undefined && fields.target <= 0) {
    details.push({ path: "/target", message: "must be > 0" });
  }
  return { details, fields };
}
