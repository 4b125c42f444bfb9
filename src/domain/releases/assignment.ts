import { InvalidArgumentError } from "../errors.js";
import { checkText } from "../validation.js";
import type { Assignment, BargeAssignment, DriverAssignment } from "./model.js";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The body of PUT /releases/{address}/assign, with `type` already read as a word ("" when absent). */
export interface AssigneeInput {
  type: "driver" | "barge" | "";
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  identification: string;
  name: string;
  visitNumber: string;
}

/** The body of PUT /releases/{address}/assign_barge. */
export interface BargeInput {
  name: string;
  identification: string;
  visitNumber: string;
}

const required = (field: string, value: string) => checkText(field, value, { required: true }).trim();
const optional = (field: string, value: string) => checkText(field, value).trim();

/**
 * PUT /releases/{address}/assign: a truck driver (firstName, lastName, type and identification
 * mandatory; email and phone optional) or, with type "barge", a barge. Every text is at most
 * 255 characters; errors name the field as the caller spells it.
 */
export function checkAssignee(input: AssigneeInput): Assignment {
  if (input.type === "barge") return checkBarge(input);
  if (input.type !== "driver") throw new InvalidArgumentError("type", 'is required: "driver" or "barge"');
  return checkDriver(input);
}

function checkDriver(input: AssigneeInput): DriverAssignment {
  const driver: DriverAssignment = {
    type: "driver",
    firstName: required("firstName", input.firstName),
    lastName: required("lastName", input.lastName),
    email: optional("email", input.email),
    phone: optional("phone", input.phone),
    identification: required("identification", input.identification),
  };
  if (driver.email !== "" && !EMAIL.test(driver.email)) throw new InvalidArgumentError("email", "must be an e-mail address");
  return driver;
}

/**
 * A barge, from PUT /releases/{address}/assign_barge (no type) or from /assign with type
 * "barge": name and identification (the ENI number) mandatory, visitNumber optional.
 */
export function checkBarge(input: BargeInput): BargeAssignment {
  return {
    type: "barge",
    name: required("name", input.name),
    identification: required("identification", input.identification),
    visitNumber: optional("visitNumber", input.visitNumber),
  };
}
