// Builds the dashboard into the Python package (served by `yokeflow api`); nothing is fetched at
// run time: every dependency is bundled.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/yokeflow/web/static",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 2000,
  },
});
