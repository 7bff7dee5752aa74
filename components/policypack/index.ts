export * from "./policies";
