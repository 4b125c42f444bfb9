import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/adapters/store/sqlite/schema.ts",
  out: "./drizzle",
});
