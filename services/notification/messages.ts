/** What each notification says. Pure: the goal's title and the event in, title, body and data out. */
import type { ChannelPayloads } from "../../shared/bus/channels.ts";
import type { LocalDate } from "../../shared/domain/goal-types.ts";

export interface Content {
  title: string;
  body: string;
  data: Record<string, unknown>;
}

export interface WeekFigures {
  weekStartDate: LocalDate;
  activities: number;
  quantity: number;
  goalsDue: number;
  goalsMet: number;
  completionRate: number | null;
}

export function milestoneContent(goalTitle: string, event: ChannelPayloads["streak.milestone"]): Content {
  return {
    title: `Streak of ${event.milestone} on "${goalTitle}"`,
    body: `You have met "${goalTitle}" ${event.milestone} times in a row. Keep it going!`,
    data: {
      goalId: event.goalId,
      goalTitle,
      milestone: event.milestone,
      current: event.current,
      lastMetDate: event.lastMetDate,
    },
  };
}

export function brokenContent(goalTitle: string, event: ChannelPayloads["streak.broken"]): Content {
  return {
    title: `Streak ended on "${goalTitle}"`,
    body: `Your streak of ${event.previous} on "${goalTitle}" has ended. Log it next time to start a new one.`,
    data: { goalId: event.goalId, goalTitle, previous: event.previous, lastMetDate: event.lastMetDate },
  };
}

export function completedContent(goalTitle: string, event: ChannelPayloads["goal.completed"]): Content {
  return {
    title: `Goal completed: "${goalTitle}"`,
    body: `Congratulations: you completed "${goalTitle}" on ${event.completedOn}.`,
    data: { goalId: event.goalId, goalTitle, completedOn: event.completedOn },
  };
}

export function atRiskContent(goalTitle: string, goalId: string, current: number, date: LocalDate): Content {
  return {
    title: `Keep your streak on "${goalTitle}"`,
    body: `"${goalTitle}" is not done yet today. Log it before your day ends to keep your ${current}-day streak.`,
    data: { goalId, goalTitle, current, date },
  };
}

export function weeklySummaryContent(figures: WeekFigures): Content {
  const rate = figures.goalsDue > 0 ? ` (${Math.round((figures.goalsMet / figures.goalsDue) * 100)}%)` : "";
  return {
    title: `Your week from ${figures.weekStartDate}`,
    body:
      `${figures.activities} ${figures.activities === 1 ? "activity" : "activities"} logged; ` +
      `${figures.goalsMet} of ${figures.goalsDue} goal periods met${rate}.`,
    data: { ...figures },
  };
}
