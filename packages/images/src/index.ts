export {
  type ImageSpec,
  imageKey,
  isEmptySpec,
  MAX_PACKAGES,
  parseImageSpec,
  splitPackageList,
} from './image-spec.ts';
