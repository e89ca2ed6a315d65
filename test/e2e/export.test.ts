import { expect } from "chai";
import { registerUser } from "../helpers/api.ts";
import { useStack } from "../helpers/stack.ts";

interface Goal {
  id: string;
}

describe("Export and recommendations over HTTP", function () {
  const sys = useStack();

  it("exports every goal and activity as JSON", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const goal = (await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Water" }, { token })).body;
    await sys.api.post(`/goals/${goal.id}/activities`, { quantity: 2, note: "morning" }, { token });
    await sys.api.post(`/goals/${goal.id}/activities`, { quantity: 1 }, { token });
    const response = await sys.api.get<{
      goals: { id: string }[];
      activities: { goalId: string; quantity: number }[];
    }>("/export", { token });
    expect(response.status).to.equal(200);
    expect(response.body.goals.map((g) => g.id)).to.deep.equal([goal.id]);
    expect(response.body.activities.map((a) => a.quantity).sort()).to.deep.equal([1, 2]);
  });

  it("streams CSV with a header row and correct quoting", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const goal = (
      await sys.api.post<Goal>("/goals", { pattern: "daily", title: 'Say "hi", daily' }, { token })
    ).body;
    await sys.api.post(`/goals/${goal.id}/activities`, { note: "line one\nline two, with comma" }, { token });
    const response = await sys.api.get("/export?format=csv", { token });
    expect(response.headers.get("content-type")).to.match(/^text\/csv/);
    const lines = response.text.split("\n");
    expect(lines[0]).to.equal(
      "type,id,goalId,title,pattern,status,startDate,endDate,target,unit,quantity,note,occurredAt,localDate,createdAt",
    );
    expect(response.text).to.include('"Say ""hi"", daily"');
    expect(response.text).to.include('"line one\nline two, with comma"');
    expect((await sys.api.get("/export?format=xml", { token })).status).to.equal(400);
  });

  it("recommends templates to a new user, and suggestions from history later", async () => {
    const user = await registerUser(sys.api);
    const token = user.accessToken;
    const fresh = await sys.api.get<{ kind: string; templateId?: string }[]>("/recommendations", { token });
    expect(fresh.body.length).to.be.greaterThan(0);
    expect(fresh.body.every((r) => r.kind === "start_with_template" && r.templateId)).to.equal(true);
    const startDate = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    const idle = (
      await sys.api.post<Goal>("/goals", { pattern: "daily", title: "Idle", startDate }, { token })
    ).body;
    const later = await sys.api.get<{ kind: string; goalId?: string }[]>("/recommendations", { token });
    expect(later.body.some((r) => r.kind === "revive_goal" && r.goalId === idle.id)).to.equal(true);
  });
});
