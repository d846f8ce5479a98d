// What a binding helper needs from a function: an environment variable and a policy statement, set together.
import type * as iam from 'aws-cdk-lib/aws-iam';

export interface BindableFunction {
  addEnvironment(name: string, value: string): void;
  addToRolePolicy(statement: iam.PolicyStatement): void;
}
